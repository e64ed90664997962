module github.com/paylinkgo/paylink/provider/midtrans/midtranstest/sdktest

go 1.26.0

require (
	github.com/midtrans/midtrans-go v1.3.8
	github.com/paylinkgo/paylink v0.0.0
)

replace github.com/paylinkgo/paylink => ../../../..
