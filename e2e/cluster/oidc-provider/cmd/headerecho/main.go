// headerecho is a stand-in upstream for checks of oauth2-proxy: it answers
// every request with the request line and headers it received, as JSON:
//
//	{"method":"GET","path":"/x?y=1","headers":{"X-Forwarded-User":["alice"],...}}
//
//	headerecho --listen 127.0.0.1:PORT
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "host:port to serve plain HTTP on")
	flag.Parse()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(struct {
			Method  string              `json:"method"`
			Path    string              `json:"path"`
			Headers map[string][]string `json:"headers"`
		}{r.Method, r.URL.RequestURI(), r.Header})
	})
	log.Printf("headerecho listening on %s", *listen)
	log.Fatal(http.ListenAndServe(*listen, nil))
}
