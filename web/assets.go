package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// AssetPrefix is where Assets.Handler is mounted.
const AssetPrefix = "/assets/"

// Assets are the embedded static files under content-hash names (app.3f2a9c1b.css): a new
// release changes the name, so browsers may keep every file for a year.
type Assets struct {
	byName map[string]string // app.css -> app.3f2a9c1b.css
	files  map[string]asset  // app.3f2a9c1b.css -> content
}

type asset struct {
	data  []byte
	ctype string
}

// NewAssets names the embedded files by their content.
func NewAssets() (*Assets, error) {
	a := &Assets{byName: map[string]string{}, files: map[string]asset{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(data)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		a.byName[name] = hashed
		a.files[hashed] = asset{data: data, ctype: mime.TypeByExtension(ext)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: read assets: %w", err)
	}
	return a, nil
}

// URL returns the address of asset name (as under web/static); it panics on a name that is not
// embedded, a programming error every test of a page finds.
func (a *Assets) URL(name string) string {
	h, ok := a.byName[name]
	if !ok {
		panic("web: no asset " + name)
	}
	return AssetPrefix + h
}

// Handler serves the assets under AssetPrefix, cached for a year as immutable.
func (a *Assets) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := a.files[strings.TrimPrefix(r.URL.Path, AssetPrefix)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		if f.ctype != "" {
			w.Header().Set("Content-Type", f.ctype)
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.data))
	})
}
