package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

const (
	keyFile    = "secret.key"
	keySize    = 32
	sealPrefix = "v1:" // version of the sealed format: AES-256-GCM, base64(nonce|ciphertext)
)

// secretBox seals secrets with AES-256-GCM. Each sealed value is bound to a
// label naming what it is (additional data), so a value cannot be moved to
// another row or column and still open.
type secretBox struct{ aead cipher.AEAD }

// loadSecretBox uses Options.SecretKey, else DataDir/secret.key, which it
// creates with a random key if absent.
func loadSecretBox(opts Options) (*secretBox, error) {
	key := opts.SecretKey
	if len(key) == 0 {
		if opts.DataDir == "" {
			return nil, errors.New("no secret key: set SecretKey or DataDir")
		}
		var err error
		if key, err = loadKeyFile(filepath.Join(opts.DataDir, keyFile)); err != nil {
			return nil, err
		}
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("secret key is %d bytes, want %d", len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating cipher: %w", err)
	}
	return &secretBox{aead: aead}, nil
}

// loadKeyFile reads the key at path, creating it first if it does not
// exist. The new key is written to a temporary file and linked into place,
// so a concurrent reader never sees a partial key and two creators agree.
func loadKeyFile(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading secret key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), keyFile+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("creating secret key: %w", err)
	}
	defer os.Remove(tmp.Name())
	key = make([]byte, keySize)
	rand.Read(key)
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing secret key: %w", err)
	}
	if err := tmp.Close(); err != nil { // CreateTemp makes it 0600
		return nil, fmt.Errorf("writing secret key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return loadKeyFile(path)
	} else if err != nil {
		return nil, fmt.Errorf("installing secret key: %w", err)
	}
	return key, nil
}

// seal encrypts plain for the given label.
func (b *secretBox) seal(label string, plain []byte) string {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	rand.Read(nonce)
	out := b.aead.Seal(nonce, nonce, plain, []byte(label))
	return sealPrefix + base64.StdEncoding.EncodeToString(out)
}

// open decrypts what seal returned for the same label.
func (b *secretBox) open(label, sealed string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return nil, errors.New("unknown secret format")
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return nil, errors.New("corrupt secret")
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(label))
	if err != nil {
		return nil, ErrWrongKey
	}
	return plain, nil
}

// sealMap seals a string map, encoded so that any bytes round-trip.
func (b *secretBox) sealMap(label string, m map[string]string) string {
	return b.seal(label, encodeMap(m))
}

func (b *secretBox) openMap(label, sealed string) (map[string]string, error) {
	plain, err := b.open(label, sealed)
	if err != nil {
		return nil, err
	}
	return decodeMap(plain)
}

// encodeMap writes the sorted keys and their values, each prefixed with its
// length as a uvarint. Unlike JSON it keeps invalid UTF-8 byte-identical.
func encodeMap(m map[string]string) []byte {
	keys := sortedKeys(m)
	var out []byte
	for _, k := range keys {
		out = binary.AppendUvarint(out, uint64(len(k)))
		out = append(out, k...)
		out = binary.AppendUvarint(out, uint64(len(m[k])))
		out = append(out, m[k]...)
	}
	return out
}

func decodeMap(b []byte) (map[string]string, error) {
	m := map[string]string{}
	next := func() (string, error) {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return "", errors.New("corrupt secret map")
		}
		s := string(b[w : w+int(n)])
		b = b[w+int(n):]
		return s, nil
	}
	for len(b) > 0 {
		k, err := next()
		if err != nil {
			return nil, err
		}
		v, err := next()
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}

// sortedKeys returns m's keys in order, never nil.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// merge applies changes to a copy of m: a nil value removes the key.
func merge(m map[string]string, changes map[string]*string) map[string]string {
	out := make(map[string]string, len(m)+len(changes))
	for k, v := range m {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	return out
}
