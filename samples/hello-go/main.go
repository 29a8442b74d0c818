// Command hello-go is the sample app deployed by the demo: it answers every
// request with its greeting and the release it runs.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "5000"
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		greeting := os.Getenv("GREETING")
		if greeting == "" {
			greeting = "hello"
		}
		fmt.Fprintf(w, "%s from %s\n", greeting, os.Getenv("HOSTNAME"))
	})
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
