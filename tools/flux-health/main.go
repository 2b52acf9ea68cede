// flux-health prints how Flux's kustomize-controller judges one object with the health check expressions of a
// Kustomization (spec.healthCheckExprs, Flux 2.5 and later): the evaluator of github.com/fluxcd/pkg/runtime/cel
// that the controller runs, on the object as the API server returns it.
//
// Usage: flux-health EXPRESSIONS < object.json, EXPRESSIONS one entry of healthCheckExprs as JSON
// ({"current":...,"inProgress":...,"failed":...}); prints {"status":...} as one JSON line, or
// {"status":"Unknown","error":...} when an expression fails to evaluate (kstatus's reader reports such an object
// Unknown, and Flux keeps waiting). Exit 1 when the expressions do not compile, 2 on bad input.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/fluxcd/pkg/apis/kustomize"
	fluxcel "github.com/fluxcd/pkg/runtime/cel"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "flux-health: "+format+"\n", args...)
	os.Exit(code)
}

func main() {
	if len(os.Args) != 2 {
		fail(2, "usage: flux-health EXPRESSIONS < object.json")
	}
	var expressions kustomize.HealthCheckExpressions
	if err := json.Unmarshal([]byte(os.Args[1]), &expressions); err != nil {
		fail(2, "EXPRESSIONS is no JSON object of current, inProgress and failed: %v", err)
	}
	evaluator, err := fluxcel.NewStatusEvaluator(&expressions)
	if err != nil {
		fail(1, "%v", err)
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(2, "%v", err)
	}
	// Decoded as the API machinery decodes objects (integers as int64), as the controller reads them.
	object := &unstructured.Unstructured{}
	if err := object.UnmarshalJSON(input); err != nil {
		fail(2, "standard input is no Kubernetes object: %v", err)
	}
	answer := map[string]string{}
	result, err := evaluator.Evaluate(context.Background(), object)
	if err != nil {
		answer["status"] = "Unknown"
		answer["error"] = err.Error()
	} else {
		answer["status"] = string(result.Status)
	}
	out, err := json.Marshal(answer)
	if err != nil {
		fail(1, "%v", err)
	}
	fmt.Println(string(out))
}
