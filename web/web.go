// Package web serves kpi's small built-in dashboard: one static page that
// lists the KPI catalogue and charts any KPI through the public query API,
// with the API key the user enters (kept in the browser's local storage).
// It holds no data of its own and needs no build step.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the dashboard's files.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return http.FileServerFS(sub)
}
