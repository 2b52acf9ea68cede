// lua-health runs an Argo CD resource health check on one object, as Argo CD's application controller runs
// the checks it is given in argocd-cm: gopher-lua, only the base, table and package libraries (Argo CD opens
// no others unless resource.customizations.useOpenLibs is set), the object in the global `obj`, a one-second
// limit, and the table the script returns.
//
// Usage: lua-health SCRIPT.lua < object.json; prints the returned table as one JSON line. Exit 1 when the
// script fails or returns something other than a table, 2 on usage errors.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Argo CD stops a health check after one second.
const scriptTimeout = time.Second

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: lua-health SCRIPT.lua < object.json")
		return 2
	}
	script, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "lua-health: %v\n", err)
		return 2
	}
	var object any
	if err := json.NewDecoder(stdin).Decode(&object); err != nil {
		fmt.Fprintf(stderr, "lua-health: the object on standard input is not JSON: %v\n", err)
		return 2
	}
	result, err := evaluate(string(script), object)
	if err != nil {
		fmt.Fprintf(stderr, "lua-health: %s: %v\n", args[0], err)
		return 1
	}
	out, err := json.Marshal(result)
	if err != nil {
		fmt.Fprintf(stderr, "lua-health: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, string(out))
	return 0
}

// evaluate runs the script with `obj` set to object and returns what the table it returns holds.
func evaluate(script string, object any) (any, error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(lib.open), Protect: true}, lua.LString(lib.name)); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	L.SetContext(ctx)
	L.SetGlobal("obj", toLua(L, object))
	if err := L.DoString(script); err != nil {
		return nil, err
	}
	returned := L.Get(-1)
	table, ok := returned.(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("the script returned a %s, not a table", returned.Type())
	}
	return fromLua(table)
}
