module github.com/tessera/verify-go

go 1.25

require github.com/golang-jwt/jwt/v5 v5.2.2
