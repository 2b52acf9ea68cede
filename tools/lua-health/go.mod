module github.com/iot-security-operator/lua-health

go 1.24.0

require github.com/yuin/gopher-lua v1.1.2
