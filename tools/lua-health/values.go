package main

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// toLua is a decoded JSON value as a Lua value: objects and arrays are tables (arrays from index 1), null is
// nil, so that a field set to null reads as absent, as it does in Argo CD.
func toLua(L *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		table := L.CreateTable(len(v), 0)
		for _, item := range v {
			table.Append(toLua(L, item))
		}
		return table
	case map[string]any:
		table := L.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetString(key, toLua(L, item))
		}
		return table
	default:
		panic(fmt.Sprintf("no Lua value for the JSON value %T", value))
	}
}

// fromLua is a Lua value as one encoding/json can write: a table with the keys 1..n is an array, any other
// table an object with string keys.
func fromLua(value lua.LValue) (any, error) {
	switch v := value.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(v), nil
	case lua.LNumber:
		return float64(v), nil
	case lua.LString:
		return string(v), nil
	case *lua.LTable:
		return tableFromLua(v)
	default:
		return nil, fmt.Errorf("a %s cannot be written as JSON", value.Type())
	}
}

func tableFromLua(table *lua.LTable) (any, error) {
	length := table.MaxN()
	keys := 0
	table.ForEach(func(lua.LValue, lua.LValue) { keys++ })
	if length > 0 && keys == length {
		array := make([]any, 0, length)
		for i := 1; i <= length; i++ {
			item, err := fromLua(table.RawGetInt(i))
			if err != nil {
				return nil, err
			}
			array = append(array, item)
		}
		return array, nil
	}
	object := map[string]any{}
	var failure error
	table.ForEach(func(key, item lua.LValue) {
		if failure != nil {
			return
		}
		name, ok := key.(lua.LString)
		if !ok {
			failure = fmt.Errorf("a table with a %s key cannot be written as a JSON object", key.Type())
			return
		}
		object[string(name)], failure = fromLua(item)
	})
	return object, failure
}
