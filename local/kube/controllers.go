package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/component-base/cli"
	kcm "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

// controllerManagerCommand is the subcommand under which this binary runs
// kube-controller-manager, unchanged, in a process of its own.
//
// Why a subcommand of kube-cluster and not a goroutine or a second binary:
// the API server and the controller manager both apply process-wide state
// (feature gates, the component version registry, logging, metrics), so one
// process cannot host both safely; and a second binary would link the same
// k8s.io/kubernetes packages a second time (another ~150 MB and minutes of
// link time on a small machine) where this one build covers both. A child
// process also keeps the API server's CPU figure, which the benchmarks read
// from /proc, free of the controllers' work, and gives the controllers their
// own log.
const controllerManagerCommand = "controller-manager"

// runControllerManager runs kube-controller-manager with args.
func runControllerManager(args []string) int {
	cmd := kcm.NewControllerManagerCommand()
	cmd.SetArgs(args)
	return cli.Run(cmd)
}

// controllerManager describes the child kube-cluster starts beside its API
// server; see startControllerManager.
type controllerManager struct {
	kubeconfig string   // its credentials; also used to wait for the API server
	logFile    string   // where its output goes; empty for our stderr
	pidFile    string   // where its pid is written once started; empty for none
	args       []string // its flags, before --kubeconfig
}

// startControllerManager waits until the API server behind cm.kubeconfig is
// ready (the controller manager reads the API server's CA file when it
// starts, and gives up on an API server that is not healthy within 10s), then
// runs the controller manager as a child of this process until ctx is done.
//
// The returned channel is closed once the child has been stopped and reaped.
// If the child exits while ctx is not done, this process exits with an error:
// a cluster whose controllers died would silently stop reconciling.
func startControllerManager(ctx context.Context, cm controllerManager) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := waitForReadyz(ctx, cm.kubeconfig); err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(os.Stderr, "kube-cluster: controller-manager not started: %v\n", err)
				os.Exit(1)
			}
			return
		}
		// Pdeathsig is sent when the thread that started the child exits, so
		// this goroutine keeps its thread for the child's whole life.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := superviseControllerManager(ctx, cm); err != nil {
			fmt.Fprintf(os.Stderr, "kube-cluster: %v\n", err)
			os.Exit(1)
		}
	}()
	return done
}

func superviseControllerManager(ctx context.Context, cm controllerManager) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("controller-manager: cannot find this binary: %w", err)
	}
	out := os.Stderr
	if cm.logFile != "" {
		if out, err = os.OpenFile(cm.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
			return fmt.Errorf("controller-manager: %w", err)
		}
		defer out.Close()
	}
	args := append([]string{controllerManagerCommand}, cm.args...)
	args = append(args, "--kubeconfig="+cm.kubeconfig)
	child := exec.Command(self, args...)
	child.Stdout, child.Stderr = out, out
	child.SysProcAttr = &syscall.SysProcAttr{
		// If kube-cluster is killed outright (SIGKILL), the kernel kills the
		// controller manager too: no process outlives its cluster.
		Pdeathsig: syscall.SIGKILL,
		// Its own process group, so that a signal to kube-cluster's group
		// (how the tests stop a cluster) reaches kube-cluster alone, which
		// then stops the controllers first and knows that it did.
		Setpgid: true,
	}
	if err := child.Start(); err != nil {
		return fmt.Errorf("controller-manager could not start: %w", err)
	}
	if cm.pidFile != "" {
		if err := os.WriteFile(cm.pidFile, []byte(fmt.Sprintf("%d\n", child.Process.Pid)), 0o644); err != nil {
			_ = child.Process.Kill()
			_ = child.Wait()
			return fmt.Errorf("controller-manager: %w", err)
		}
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	select {
	case err := <-exited:
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("controller-manager exited unexpectedly (%v); see %s", err, describe(cm.logFile))
	case <-ctx.Done():
		// Stopped before the API server, so that the controllers do not spend
		// the API server's shutdown retrying against it.
		_ = child.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = child.Process.Kill()
			<-exited
		}
		return nil
	}
}

func describe(logFile string) string {
	if logFile == "" {
		return "the lines above"
	}
	return logFile
}

// waitForReadyz polls the API server's /readyz with the kubeconfig's
// credentials until it answers 200, or ctx is done. The kubeconfig may name a
// CA file that the API server has not written yet: that is retried too.
func waitForReadyz(ctx context.Context, kubeconfig string) error {
	var last error
	for {
		if last = readyz(ctx, kubeconfig); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted while waiting for the API server (last: %v)", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func readyz(ctx context.Context, kubeconfig string) error {
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	config.Timeout = 5 * time.Second
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	status := 0
	result := client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).StatusCode(&status)
	if status != http.StatusOK {
		return fmt.Errorf("/readyz answered %d (%v)", status, result.Error())
	}
	return nil
}
