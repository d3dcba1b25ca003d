/*
 * The pod sandbox's process, as the Kubernetes pause image's: it holds the pod's namespaces, reaps
 * any child that is re-parented to it, and exits 0 when asked to stop. Written for the suite's
 * node (no container registry is reachable to pull registry.k8s.io/pause); built static.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) {
    (void)sig;
    _exit(0);
}

static void reap(int sig) {
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        printf("pause (lakehouse-platform test node)\n");
        return 0;
    }
    if (getpid() != 1) fprintf(stderr, "warning: pause should be the first process\n");
    struct sigaction term = {.sa_handler = stop};
    struct sigaction child = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP};
    sigaction(SIGINT, &term, NULL);
    sigaction(SIGTERM, &term, NULL);
    sigaction(SIGCHLD, &child, NULL);
    for (;;) pause();
}
