module github.com/dianoia/dianoia/bindings/go

go 1.19
