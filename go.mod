module github.com/sessionauth/sessionauth

go 1.25
