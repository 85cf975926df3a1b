"""--server-host: the server host through scripts/remote (its rh_* functions, kept in
one bash helper for the run: one ssh connection, the programs copied and checked, each
remote process under its wrapper there, nothing left there on any exit).  The helper
reads requests on its stdin (a line with the word count, then one word a line) and
answers one line each."""
import os
import subprocess
import sys

HELPER = r'''
RH_ME=bench/run
top=$1 host=$2 need=$3
shift 3
. "$top/scripts/remote" # (it empties RH_OPTS: filled after)
while [ $# -gt 0 ] && [ "$1" != -- ]; do RH_OPTS+=("$1"); shift; done
shift
trap : INT TERM # the runner ends it (close), after its own cleanup
trap rh_close EXIT
rh_open "$host" $need "$@" || exit 2
printf 'ok %s %s %s %s\n' "$RH_HOST" "$RH_ADDR" "$RH_DIR" "$RH_CTL"
next() { # one word of a request into w: a read a signal cut short is read again
	local rc
	while :; do IFS= read -r w; rc=$?; [ $rc -gt 128 ] || return $rc; done
}
while next; do
	n=$w args=()
	for ((i = 0; i < n; i++)); do next || exit 0; args+=("$w"); done
	case ${args[0]} in
	start) rh_start "${args[@]:1}"; echo "$RH_LAST" ;;
	wait_log) rh_wait_log "${args[@]:1}" && echo yes || echo no ;;
	stop) rh_stop "${args[1]}"; echo stopped ;;
	hostinfo) echo "$(rh_hostinfo 2>/dev/null | tr -d '\n')" ;;
	close) rh_close; echo closed; exit 0 ;;
	esac
done
'''


class Remote:
    def __init__(self, top, host, opts, need_iperf, files):
        need = "--need iperf3" if need_iperf else ""
        self.p = subprocess.Popen(["bash", "-c", HELPER, "bench/run-remote", top, host, need] + list(opts)
                                  + ["--"] + list(files), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1)
        line = self.p.stdout.readline().split()
        if len(line) != 5 or line[0] != "ok":
            self.p.wait()
            self.p = None
            sys.exit(2)  # scripts/remote said why, in one line
        self.host, self.addr, self.dir, self.ctl = line[1:]
        self.pids = {}

    def ask(self, *words):
        if self.p is None:
            return ""
        try:
            self.p.stdin.write("%d\n%s\n" % (len(words), "\n".join(str(w) for w in words)))
            self.p.stdin.flush()
            return self.p.stdout.readline().strip()
        except (OSError, ValueError):
            return ""

    def start(self, name, log, argv):
        """ARGV there under its wrapper, its output appended to the local LOG."""
        pid = self.ask("start", name, log, *argv)
        self.pids[name] = int(pid) if pid.isdigit() else None
        return self.pids[name]

    def pid(self, name):
        return self.pids.get(name)

    def wait_log(self, log, regex, secs):
        return self.ask("wait_log", log, regex, secs) == "yes"

    def stop(self, name):
        self.ask("stop", name)
        self.pids.pop(name, None)

    def hostinfo(self):
        import json
        try:
            return json.loads(self.ask("hostinfo"))
        except ValueError:
            return None

    def close(self):
        if self.p is not None:
            self.ask("close")
            try:
                self.p.stdin.close()
            except OSError:
                pass
            self.p.wait()
            self.p = None


def open_host(c, build, baseline):
    """The server host connected, checked, the programs copied, before anything starts (an
    unreachable host, or one without iperf3 for the baseline: one line, exit 2)."""
    r = Remote(c.top, c.o.server_host, c.o.ssh_opts, baseline,
               [os.path.join(build, "sbserver"), os.path.join(build, "sbclient")])
    os.environ["SB_RH_CTL"] = r.ctl  # scripts/iperf-baseline rides on this connection
    sys.stderr.write("bench/run: server host %s reached as %s; programs in %s there\n" % (r.host, r.addr, r.dir))
    return r


