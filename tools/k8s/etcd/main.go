// Command etcd is the etcd server of go.etcd.io/etcd/server/v3 (the version k8s.io/kubernetes
// pins), built here because Debian's etcd-server is 3.4 and the module proxy serves no etcd
// binary module with a main package we can build as is. Same entry point as upstream's
// go.etcd.io/etcd/v3 main.go: etcdmain.Main(os.Args).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
