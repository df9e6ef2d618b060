module github.com/sessionauth/sessionauth/store/redisstore

go 1.25.0

replace github.com/sessionauth/sessionauth => ../..

require (
	github.com/redis/go-redis/v9 v9.22.0
	github.com/sessionauth/sessionauth v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/alexedwards/scs/v2 v2.9.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
