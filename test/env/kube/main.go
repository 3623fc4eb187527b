// Command kube-cluster runs one real Kubernetes API server, backed by its own
// embedded etcd, in a single process.
//
// It exists so Lifeboat's tests can talk to a genuine kube-apiserver (real
// validation, RBAC, storage and watch semantics) on machines without Docker,
// kind or downloadable release binaries. There is no controller-manager,
// scheduler or kubelet: objects are stored and served, nothing reconciles them.
//
// Usage:
//
//	kube-cluster --etcd-dir DIR --etcd-client-port N --etcd-peer-port N -- [kube-apiserver flags]
//
// Everything after "--" is passed to kube-apiserver unchanged, followed by
// --etcd-servers=http://127.0.0.1:<etcd-client-port>. SIGTERM/SIGINT shut the
// API server down gracefully, then etcd. Build it with ../build-kube.sh.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
	_ "time/tzdata" // for timeZone support in CronJob, as in kube-apiserver's main

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format, as in kube-apiserver's main
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics, as in kube-apiserver's main
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric, as in kube-apiserver's main
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(run())
}

func run() int {
	own, apiArgs := splitArgs(os.Args[1:])

	fs := flag.NewFlagSet("kube-cluster", flag.ContinueOnError)
	etcdDir := fs.String("etcd-dir", "", "etcd data directory (required)")
	clientPort := fs.Int("etcd-client-port", 0, "etcd client port on 127.0.0.1 (required)")
	peerPort := fs.Int("etcd-peer-port", 0, "etcd peer port on 127.0.0.1 (required)")
	noFsync := fs.Bool("etcd-unsafe-no-fsync", false, "disable fsync in etcd (faster, unsafe on crash; fine for throwaway test data)")
	readyTimeout := fs.Duration("etcd-ready-timeout", 60*time.Second, "how long to wait for etcd to become ready")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: kube-cluster --etcd-dir DIR --etcd-client-port N --etcd-peer-port N -- [kube-apiserver flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(own); err != nil {
		return 2
	}
	if *etcdDir == "" || *clientPort <= 0 || *peerPort <= 0 || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}

	// Build the command first: this installs the apiserver's SIGTERM/SIGINT
	// handler, whose context we also use to abandon a slow etcd start.
	cmd := app.NewAPIServerCommand()
	ctx := cmd.Context()

	etcd, err := startEtcd(ctx, *etcdDir, *clientPort, *peerPort, *noFsync, *readyTimeout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kube-cluster: etcd failed to start: %v\n", err)
		return 1
	}

	// If etcd dies underneath the API server there is no point carrying on.
	go func() {
		if err, ok := <-etcd.Err(); ok && err != nil {
			fmt.Fprintf(os.Stderr, "kube-cluster: etcd failed: %v\n", err)
			os.Exit(1)
		}
	}()

	code := 0
	if ctx.Err() == nil { // not signalled while etcd was starting
		cmd.SetArgs(append(apiArgs, fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", *clientPort)))
		code = cli.Run(cmd)
	}
	etcd.Close() // before the message below, so that it is the last line on stderr
	if code != 0 {
		fmt.Fprintf(os.Stderr, "kube-cluster: kube-apiserver exited with code %d\n", code)
	}
	return code
}

// splitArgs splits args at the first "--": our flags before, kube-apiserver's after.
func splitArgs(args []string) (own, rest []string) {
	for i, a := range args {
		if a == "--" {
			return args[:i], args[i+1:]
		}
	}
	return args, nil
}
