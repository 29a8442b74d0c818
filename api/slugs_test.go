package api

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"net/http"
	"testing"

	"github.com/deis/deis"
)

// slugBody is a tar.gz of an app with a Procfile and a file holding text.
func slugBody(t *testing.T, text string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range [][2]string{{"./Procfile", "web: ./web\n"}, {"./secret.txt", text}} {
		name, body := f[0], f[1]
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))})
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// TestSlugsBelongToApps is security review #5: bob's slug cannot be
// downloaded by carol through her own app, nor registered as a build of
// it (the controller would ship it to her nodes); bob still gets it.
func TestSlugsBelongToApps(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	bob, carol := a.user("bob"), a.user("carol")
	for _, u := range []struct{ token, formation, app string }{{bob, "bobf", "bobapp"}, {carol, "carolf", "carolapp"}} {
		a.must(http.StatusCreated, "POST", "/v1/formations", u.token, deis.FormationCreateRequest{ID: u.formation, Flavor: "static"}, nil)
		a.must(http.StatusCreated, "POST", "/v1/apps", u.token, deis.AppCreateRequest{ID: u.app, Formation: u.formation}, nil)
	}
	var slug deis.Slug
	a.must(http.StatusCreated, "POST", "/v1/apps/bobapp/slugs", bob, string(slugBody(t, "BOB PRIVATE SLUG")), &slug)
	a.release("POST", "/v1/apps/bobapp/builds", bob, deis.BuildCreateRequest{SlugURL: slug.URL, SlugSHA256: slug.SHA256, Procfile: slug.Procfile})

	path := "/v1/apps/%s/slugs/" + slug.SHA256 + ".tgz"
	if status, _ := a.do("GET", fmt.Sprintf(path, "carolapp"), carol, nil); status != http.StatusNotFound {
		t.Errorf("carol fetching bob's slug through her app: %d, want 404", status)
	}
	if status, out := a.do("GET", fmt.Sprintf(path, "bobapp"), bob, nil); status != http.StatusOK || !bytes.Equal(out, slugBody(t, "BOB PRIVATE SLUG")) {
		t.Errorf("bob fetching his slug: %d", status)
	}
	status, out := a.do("POST", "/v1/apps/carolapp/builds", carol, deis.BuildCreateRequest{SlugURL: slug.URL, SlugSHA256: slug.SHA256, Procfile: slug.Procfile})
	if status != http.StatusUnprocessableEntity {
		t.Errorf("carol registering bob's slug as her build: %d %s, want 422", status, out)
	}
	// A build naming a sha256 the controller does not hold yet does not
	// make the bytes hers once bob uploads them.
	later := slugBody(t, "BOB'S NEXT SLUG")
	laterSum := fmt.Sprintf("%x", sha256.Sum256(later))
	a.release("POST", "/v1/apps/carolapp/builds", carol, deis.BuildCreateRequest{SlugURL: "http://example.com/s.tgz", SlugSHA256: laterSum, Procfile: map[string]string{"web": "./web"}})
	a.must(http.StatusCreated, "POST", "/v1/apps/bobapp/slugs", bob, string(later), nil)
	if status, _ := a.do("GET", "/v1/apps/carolapp/slugs/"+laterSum+".tgz", carol, nil); status != http.StatusNotFound {
		t.Errorf("carol fetching bob's later slug through the build she named first: %d, want 404", status)
	}

	// The same bytes uploaded to her own app are hers: she has them.
	var same deis.Slug
	a.must(http.StatusCreated, "POST", "/v1/apps/carolapp/slugs", carol, string(slugBody(t, "BOB PRIVATE SLUG")), &same)
	if same.SHA256 != slug.SHA256 {
		t.Fatalf("the same bytes made %s and %s", same.SHA256, slug.SHA256)
	}
	a.release("POST", "/v1/apps/carolapp/builds", carol, deis.BuildCreateRequest{SlugURL: same.URL, SlugSHA256: same.SHA256, Procfile: same.Procfile})
	if status, _ := a.do("GET", fmt.Sprintf(path, "carolapp"), carol, nil); status != http.StatusOK {
		t.Errorf("carol fetching the slug she uploaded: %d", status)
	}
}
