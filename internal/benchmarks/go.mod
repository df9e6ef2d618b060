module github.com/sessionauth/sessionauth/internal/benchmarks

go 1.25.0

replace github.com/sessionauth/sessionauth => ../..

replace github.com/sessionauth/sessionauth/store/sqlitestore => ../../store/sqlitestore

replace github.com/sessionauth/sessionauth/store/redisstore => ../../store/redisstore

replace github.com/sessionauth/sessionauth/store/pgstore => ../../store/pgstore

require (
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/jackc/pgx/v5 v5.12.0
	github.com/redis/go-redis/v9 v9.22.0
	github.com/sessionauth/sessionauth v0.0.0-00010101000000-000000000000
	github.com/sessionauth/sessionauth/store/pgstore v0.0.0-00010101000000-000000000000
	github.com/sessionauth/sessionauth/store/redisstore v0.0.0-00010101000000-000000000000
	github.com/sessionauth/sessionauth/store/sqlitestore v0.0.0-00010101000000-000000000000
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/ncruces/go-strftime v1.0.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	modernc.org/libc v1.75.7 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
	modernc.org/sqlite v1.59.0 // indirect
)
