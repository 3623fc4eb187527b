// Command kube-cluster runs one real Kubernetes API server, backed by its own
// embedded etcd, in a single process.
//
// It exists so Lifeboat's tests can talk to a genuine kube-apiserver (real
// validation, RBAC, storage and watch semantics) on machines without Docker,
// kind or downloadable release binaries. With --controllers-kubeconfig it also
// runs kube-controller-manager (garbage collector, namespace, workload, PV
// binder and service-account controllers...) as a child process once the API
// server is ready. There is no scheduler or kubelet: Pods stay Pending.
//
// Usage:
//
//	kube-cluster --etcd-dir DIR --etcd-client-port N --etcd-peer-port N \
//	  [--controllers-kubeconfig FILE [--controllers-log FILE] [--controllers-pid-file FILE] \
//	   [--controllers-arg FLAG]...] -- [kube-apiserver flags]
//	kube-cluster controller-manager [kube-controller-manager flags]
//
// Everything after "--" is passed to kube-apiserver unchanged, followed by
// --etcd-servers=http://127.0.0.1:<etcd-client-port>. Each --controllers-arg is
// passed to kube-controller-manager, followed by --kubeconfig=FILE.
// SIGTERM/SIGINT stop the controller manager, shut the API server down
// gracefully, then etcd. Build it with ../build-kube.sh.
package main

import (
	"context"
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
	if len(os.Args) > 1 && os.Args[1] == controllerManagerCommand {
		return runControllerManager(os.Args[2:])
	}
	own, apiArgs := splitArgs(os.Args[1:])

	fs := flag.NewFlagSet("kube-cluster", flag.ContinueOnError)
	etcdDir := fs.String("etcd-dir", "", "etcd data directory (required)")
	clientPort := fs.Int("etcd-client-port", 0, "etcd client port on 127.0.0.1 (required)")
	peerPort := fs.Int("etcd-peer-port", 0, "etcd peer port on 127.0.0.1 (required)")
	noFsync := fs.Bool("etcd-unsafe-no-fsync", false, "disable fsync in etcd (faster, unsafe on crash; fine for throwaway test data)")
	readyTimeout := fs.Duration("etcd-ready-timeout", 60*time.Second, "how long to wait for etcd to become ready")
	var cm controllerManager
	fs.StringVar(&cm.kubeconfig, "controllers-kubeconfig", "", "run kube-controller-manager with this kubeconfig once the API server is ready")
	fs.StringVar(&cm.logFile, "controllers-log", "", "kube-controller-manager's log file (default: stderr)")
	fs.StringVar(&cm.pidFile, "controllers-pid-file", "", "file to write kube-controller-manager's pid to")
	fs.Func("controllers-arg", "a kube-controller-manager flag (repeatable)", func(v string) error {
		cm.args = append(cm.args, v)
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: kube-cluster --etcd-dir DIR --etcd-client-port N --etcd-peer-port N [--controllers-kubeconfig FILE ...] -- [kube-apiserver flags]")
		fmt.Fprintln(os.Stderr, "       kube-cluster controller-manager [kube-controller-manager flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(own); err != nil {
		return 2
	}
	if *etcdDir == "" || *clientPort <= 0 || *peerPort <= 0 || fs.NArg() > 0 ||
		(cm.kubeconfig == "" && (cm.logFile != "" || cm.pidFile != "" || len(cm.args) > 0)) {
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
		// Cancelled on a signal, and also when the API server returns by
		// itself (say, its port was taken), so the controllers stop with it.
		controllersCtx, stopControllers := context.WithCancel(ctx)
		controllersStopped := make(<-chan struct{})
		if cm.kubeconfig != "" {
			controllersStopped = startControllerManager(controllersCtx, cm)
		}
		cmd.SetArgs(append(apiArgs, fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", *clientPort)))
		code = cli.Run(cmd)
		stopControllers()
		if cm.kubeconfig != "" {
			<-controllersStopped
		}
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
