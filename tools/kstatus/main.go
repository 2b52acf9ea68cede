// kstatus prints how kstatus (sigs.k8s.io/cli-utils/pkg/kstatus), what Flux's `wait` and health checks and
// cli-utils' apply read, judges one object: its status (InProgress, Current, Failed, Terminating) and message.
//
// Usage: kstatus < object.json; prints {"status":...,"message":...} as one JSON line. Exit 1 when kstatus
// cannot judge it, 2 when standard input is no object.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kstatus: %v\n", err)
		os.Exit(2)
	}
	// Decoded as the API machinery decodes objects (integers as int64), which kstatus expects.
	object := &unstructured.Unstructured{}
	if err := object.UnmarshalJSON(input); err != nil {
		fmt.Fprintf(os.Stderr, "kstatus: standard input is no Kubernetes object: %v\n", err)
		os.Exit(2)
	}
	result, err := status.Compute(object)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kstatus: %v\n", err)
		os.Exit(1)
	}
	out, err := json.Marshal(map[string]string{"status": string(result.Status), "message": result.Message})
	if err != nil {
		fmt.Fprintf(os.Stderr, "kstatus: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}
