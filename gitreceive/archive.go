package gitreceive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxSymlinkTarget bounds the blob read as a symlink's target.
const maxSymlinkTarget = 4096

// ArchiveTree streams to w a tar of the tree of commit sha in the bare repo:
// directories, regular files with their modes (0644, or 0755 when
// executable) and symlinks, all dated at the commit time. Submodules are
// skipped; there is no .git. The repo is only read (with go-git).
func ArchiveTree(repo, sha string, w io.Writer) error {
	if !plumbing.IsHash(sha) {
		return fmt.Errorf("archiving %s: %q is not a commit sha", repo, sha)
	}
	r, err := git.PlainOpen(repo)
	if err != nil {
		return fmt.Errorf("archiving %s: opening: %w", repo, err)
	}
	commit, err := r.CommitObject(plumbing.NewHash(sha))
	if err != nil {
		return fmt.Errorf("archiving %s at %s: %w", repo, sha, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return fmt.Errorf("archiving %s at %s: %w", repo, sha, err)
	}
	tw := tar.NewWriter(w)
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	for {
		name, entry, err := walker.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("archiving %s at %s: %w", repo, sha, err)
		}
		hdr := &tar.Header{Name: name, ModTime: commit.Committer.When}
		if err := writeEntry(r, tw, hdr, entry); err != nil {
			return fmt.Errorf("archiving %s at %s: %s: %w", repo, sha, name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("archiving %s at %s: %w", repo, sha, err)
	}
	return nil
}

// writeEntry writes one tree entry; hdr has its name and time.
func writeEntry(r *git.Repository, tw *tar.Writer, hdr *tar.Header, entry object.TreeEntry) error {
	switch entry.Mode {
	case filemode.Submodule:
		return nil
	case filemode.Dir:
		hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, hdr.Name+"/", 0o755
		return tw.WriteHeader(hdr)
	case filemode.Symlink:
		target, err := readBlob(r, entry.Hash, maxSymlinkTarget)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeSymlink, string(target), 0o777
		return tw.WriteHeader(hdr)
	case filemode.Regular, filemode.Deprecated, filemode.Executable:
		hdr.Typeflag, hdr.Mode = tar.TypeReg, 0o644
		if entry.Mode == filemode.Executable {
			hdr.Mode = 0o755
		}
		return copyBlob(r, tw, hdr, entry.Hash)
	default:
		return fmt.Errorf("unsupported file mode %v", entry.Mode)
	}
}

func copyBlob(r *git.Repository, tw *tar.Writer, hdr *tar.Header, h plumbing.Hash) error {
	blob, err := r.BlobObject(h)
	if err != nil {
		return err
	}
	hdr.Size = blob.Size
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	rc, err := blob.Reader()
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(tw, rc)
	return err
}

func readBlob(r *git.Repository, h plumbing.Hash, limit int64) ([]byte, error) {
	blob, err := r.BlobObject(h)
	if err != nil {
		return nil, err
	}
	if blob.Size > limit {
		return nil, fmt.Errorf("symlink target longer than %d bytes", limit)
	}
	rc, err := blob.Reader()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
