module github.com/sessionauth/sessionauth

go 1.25

require (
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
