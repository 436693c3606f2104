/* The sandbox ("pause") process of every pod: holds the pod's namespaces, reaps orphaned
 * children, and exits on SIGINT or SIGTERM. Built statically by build.rs and shipped as the
 * image skiff.local/pause. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) {
    (void)sig;
    _exit(0);
}

static void reap(int sig) {
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(void) {
    struct sigaction a;
    memset(&a, 0, sizeof a);
    a.sa_handler = quit;
    sigaction(SIGINT, &a, NULL);
    sigaction(SIGTERM, &a, NULL);
    a.sa_handler = reap;
    a.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &a, NULL);
    for (;;) {
        pause();
    }
}
