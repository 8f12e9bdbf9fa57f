module gmplab/bench/go

go 1.19
