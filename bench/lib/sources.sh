# Slow sources as users have them, for bench scripts: an HTTP object store behind an rclone mount
# (bandwidth-limited like an ~80 MB/s OSS mount), and an S3 server whose every TCP connection is
# capped, behind s3fs (the ossfs family) and behind rclone.
# Sourced, not run, after bin/lib/setup.sh (for cachefs_die, CACHEFS_HOME, JAVA_HOME); needs root.
#
#   sources_init WORK              first: keeps its state (logs, objects, temp dirs) in WORK/sources
#   sources_cleanup                from the caller's EXIT trap: stops every process started here (by
#                                  PID), unmounts every mount, deletes the namespace and WORK/sources.
#                                  Safe to call at any point and twice; ignores SIGINT/SIGTERM until done
#   sources_http_serve DIR [PORT]  rclone serve http of DIR on 127.0.0.1:PORT (default 28081); the
#                                  process is named http-server; sets SOURCES_HTTP_URL
#   sources_http_mount NAME MNT [RCLONE_FLAGS...]
#                                  rclone mount :http: of that server on MNT, read-only, no VFS cache,
#                                  --bwlimit $SOURCES_HTTP_BWLIMIT
#   sources_s3_serve [PORT]        s3proxy (filesystem backend) on 127.0.0.1:PORT (default 9000) in a
#                                  network namespace of its own, each TCP connection from it capped at
#                                  $SOURCES_S3_CAP_MIB MiB/s by a token bucket of a quarter second (so a
#                                  new or idle connection sends its first ~10 MiB at full speed);
#                                  named s3-server; sets SOURCES_NETNS, SOURCES_S3_URL, SOURCES_S3_KEY,
#                                  SOURCES_S3_SECRET
#   sources_s3_put BUCKET FILE [KEY]
#                                  uploads FILE as KEY (default its base name; plain names only),
#                                  creating BUCKET when missing; the bucket is private
#   sources_s3_link BUCKET KEY NEWKEY
#                                  another object with the same bytes (and ETag) as KEY, made as a hard
#                                  link in the server's filesystem backend: no upload, no memory
#   sources_s3_many BUCKET PREFIX N
#                                  N empty objects PREFIX/obj-00001 ... written straight into the backend
#   sources_s3_get BUCKET KEY [RANGE...]
#                                  GETs the object, or each RANGE (FIRST-LAST) in parallel on a
#                                  connection of its own, with curl; prints "BYTES SECONDS" per transfer;
#                                  the bytes go to /dev/null, or with SOURCES_S3_GET_INTO=DIR into new
#                                  files in DIR (memory, when DIR is on tmpfs: where a cache's bytes land)
#   sources_s3fs_mount NAME BUCKET MNT [S3FS_ARGS...]
#                                  s3fs of BUCKET on MNT, read-only, otherwise its defaults (5 parallel
#                                  ranged GETs of 10 MB); its temp files in WORK/sources
#   sources_rclone_s3_mount NAME BUCKET MNT [RCLONE_FLAGS...]
#                                  rclone mount :s3:BUCKET on MNT, read-only, no VFS cache
#   sources_cachefs_mount NAME SRC MNT [CACHEFS_ARGS...]
#                                  CacheFS (target/cachefs.jar) over SRC: a directory (such as one of the mounts
#                                  above), or s3://BUCKET[/PREFIX] of the S3 server, read from inside its
#                                  namespace with the server's credentials as AWS_* variables
#   sources_net CMD...             runs CMD in the namespace's network, with the clean environment
#   sources_stop NAME...           stops NAME (SIGTERM, SIGKILL after 10 s) and unmounts what it left;
#                                  stopping s3-server also deletes its namespace
#
# Flags and options given to the mount functions come after the defaults, so they override them.
# Clients of the S3 server run in its namespace with `nsenter --net` only (not `ip netns exec`,
# which also unshares the mount namespace): their FUSE mounts are visible to the whole machine.
# Every process started here runs without AWS*, RCLONE_*, proxy and Java option variables, so the
# machine's environment (this one sets AWS_CA_BUNDLE) cannot change how a source behaves.
# Call the functions directly, not in $(...): they record what they start in shell variables.
#
# Settings (environment): SOURCES_HTTP_BWLIMIT (rclone's --bwlimit, default 80M),
# SOURCES_S3_CAP_MIB (per-connection cap, default 40), SOURCES_CACHEFS_JAVA_OPTS (extra JVM options for
# sources_cachefs_mount, e.g. a profiler), SOURCES_S3PROXY_VERSION (default 4.1.0, the
# newest on Maven Central, which runs on JDK 25; fetched once into target/bench-tools with Maven).

SOURCES_HTTP_BWLIMIT=${SOURCES_HTTP_BWLIMIT:-80M}
SOURCES_S3_CAP_MIB=${SOURCES_S3_CAP_MIB:-40}
SOURCES_S3PROXY_VERSION=${SOURCES_S3PROXY_VERSION:-4.1.0}
SOURCES_HTTP_URL= SOURCES_NETNS= SOURCES_S3_URL=
SOURCES_S3_KEY=cachefs-bench SOURCES_S3_SECRET=cachefs-bench-secret   # reachable only inside the namespace
declare -gA _sources_pid=() _sources_mnt=()   # name -> pid, name -> mount point
_sources_order=()                             # names, in start order
_sources_dir= _sources_env=(env)
_sources_netns_mount=   # set when this library made /run/netns a mount point (ip netns add does)

sources_init() { # WORK
  [ -d "${1:-}" ] || cachefs_die "sources_init: ${1:-(no argument)} is not a directory"
  [ "$(id -u)" -eq 0 ] || cachefs_die "the bench sources mount FUSE filesystems and make network namespaces: they need root"
  _sources_dir=$(cd "$1" && pwd)/sources
  mkdir -p "$_sources_dir"
  local v
  for v in $(compgen -e); do
    case ${v^^} in
      AWS*|RCLONE_*|HTTP_PROXY|HTTPS_PROXY|ALL_PROXY|NO_PROXY|JAVA_TOOL_OPTIONS|JDK_JAVA_OPTIONS|_JAVA_OPTIONS) _sources_env+=(-u "$v") ;;
    esac
  done
}

# ---- processes and mounts

_sources_need() { # CMD...
  local c
  for c in "$@"; do command -v "$c" > /dev/null 2>&1 || cachefs_die "the bench sources need $c: install it (Debian: apt-get install $(_sources_package "$c"))"; done
  [ -n "$_sources_dir" ] || cachefs_die "call sources_init first"
}
_sources_package() { case $1 in nft) echo nftables ;; ip|ss) echo iproute2 ;; nsenter) echo util-linux ;; fusermount3) echo fuse3 ;; mvn) echo maven ;; *) echo "$1" ;; esac; }

_sources_spawn() { # NAME CMD...: CMD in the background with the clean environment, output to NAME.log
  local name=$1; shift
  [ -z "${_sources_pid[$name]:-}" ] || cachefs_die "bench sources: $name is already running"
  "${_sources_env[@]}" "$@" < /dev/null > "$_sources_dir/$name.log" 2>&1 &
  _sources_pid[$name]=$!
  _sources_order+=("$name")
}

_sources_await() { # NAME WHAT TEST...: until TEST succeeds; dies with NAME's log if NAME exits first or after 60 s
  local name=$1 what=$2; shift 2
  for _ in $(seq 600); do
    "$@" > /dev/null 2>&1 && return
    kill -0 "${_sources_pid[$name]}" 2>/dev/null || { tail -n 20 "$_sources_dir/$name.log" >&2; cachefs_die "$name exited before $what"; }
    sleep 0.1
  done
  tail -n 20 "$_sources_dir/$name.log" >&2
  cachefs_die "$name: no $what within 60 s"
}

# From the mount table rather than stat(2), which fails on a mount whose daemon died.
_sources_mounted() { awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo; }

_sources_mount_point() { # NAME MNT: records MNT for NAME (before the daemon starts, so a failed start is unmounted too)
  case $2 in /*) ;; *) cachefs_die "$1: the mount point must be an absolute path, not $2" ;; esac
  case $2 in *[[:space:]\\]*) cachefs_die "$1: the mount point must not contain blanks or backslashes: $2" ;; esac
  mkdir -p "$2"
  ! _sources_mounted "$2" || cachefs_die "$1: something is already mounted on $2"
  _sources_mnt[$1]=$2
}

_sources_reap() { # NAME: waits for NAME (already signalled) to end, SIGKILL after 10 s, unmounts what it left
  local name=$1 p=${_sources_pid[$1]} m=${_sources_mnt[$1]:-} n kept=()
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  if [ -n "$m" ] && _sources_mounted "$m"; then fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; fi
  unset "_sources_pid[$name]" "_sources_mnt[$name]"
  case $name in
    http-server) SOURCES_HTTP_URL= ;;
    s3-server) _sources_netns_del ;;
  esac
  for n in "${_sources_order[@]}"; do [ "$n" = "$name" ] || kept+=("$n"); done
  _sources_order=("${kept[@]}")
}

sources_stop() { # NAME...
  local name
  for name in "$@"; do
    [ -n "${_sources_pid[$name]:-}" ] || cachefs_die "sources_stop: nothing named $name is running"
    kill -TERM "${_sources_pid[$name]}" 2>/dev/null || true   # rclone and s3fs unmount on SIGTERM
  done
  for name in "$@"; do _sources_reap "$name"; done
}

sources_cleanup() {
  local i name
  trap '' INT TERM   # a second Ctrl-C must not leave mounts or the namespace behind
  for name in "${_sources_order[@]}"; do kill -TERM "${_sources_pid[$name]}" 2>/dev/null || true; done
  for ((i = ${#_sources_order[@]} - 1; i >= 0; i--)); do _sources_reap "${_sources_order[i]}"; done
  _sources_netns_del   # when the server failed to start
  [ -z "$_sources_dir" ] || rm -rf --one-file-system "$_sources_dir"
  _sources_dir=
}

_sources_netns_del() {
  if [ -n "$SOURCES_NETNS" ]; then
    nsenter --net="/run/netns/$SOURCES_NETNS" nft delete table inet cfs_bench 2>/dev/null || true
    ip netns del "$SOURCES_NETNS" 2>/dev/null || true
    SOURCES_NETNS= SOURCES_S3_URL=
  fi
  # ip netns add bind-mounts /run/netns on itself the first time; undo that when it was us and no
  # other namespace has been added since.
  if [ -n "$_sources_netns_mount" ] && [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
    umount /run/netns 2>/dev/null || true
    [ "$_sources_netns_mount" = dir ] && rmdir /run/netns 2>/dev/null || true
    _sources_netns_mount=
  fi
}

# ---- the HTTP object store

sources_http_serve() { # DIR [PORT]
  local dir=$1 port=${2:-28081}
  _sources_need rclone curl ss
  [ -d "$dir" ] || cachefs_die "sources_http_serve: $dir is not a directory"
  # A server already on the port would answer the readiness check in rclone's stead.
  [ -z "$(ss -Htln "sport = :$port")" ] || cachefs_die "sources_http_serve: port $port is in use on this machine"
  SOURCES_HTTP_URL=http://127.0.0.1:$port
  _sources_spawn http-server rclone serve http "$dir" --addr "127.0.0.1:$port" --read-only --config /dev/null
  _sources_await http-server "an answer on $SOURCES_HTTP_URL" "${_sources_env[@]}" curl -sf -o /dev/null "$SOURCES_HTTP_URL/"
}

sources_http_mount() { # NAME MNT [RCLONE_FLAGS...]
  local name=$1 mnt=$2; shift 2
  _sources_need rclone fusermount3
  [ -n "$SOURCES_HTTP_URL" ] || cachefs_die "sources_http_mount: start sources_http_serve first"
  _sources_mount_point "$name" "$mnt"
  _sources_spawn "$name" rclone mount :http: "$mnt" --http-url "$SOURCES_HTTP_URL" --config /dev/null \
    --read-only --vfs-cache-mode off --bwlimit "$SOURCES_HTTP_BWLIMIT" "$@"
  _sources_await "$name" "a mount on $mnt" _sources_mounted "$mnt"
}

# ---- the S3 server with a per-connection cap

_sources_s3proxy_jar() { # prints the path of the runnable s3proxy jar, fetching it with Maven when missing
  local v=$SOURCES_S3PROXY_VERSION dir=$CACHEFS_HOME/target/bench-tools
  local jar=$dir/s3proxy-$v-jar-with-dependencies.jar
  if [ ! -s "$jar" ]; then
    _sources_need mvn
    echo "bench sources: fetching s3proxy $v with Maven" >&2
    mkdir -p "$dir"
    # Outside the project, so that its pom plays no part.
    if ! (cd "$dir" && "${_sources_env[@]}" mvn -q -B dependency:copy \
        "-Dartifact=org.gaul:s3proxy:$v:jar:jar-with-dependencies" "-DoutputDirectory=$dir") > "$_sources_dir/mvn.log" 2>&1; then
      sed $'s/\e\\[[0-9;]*m//g' "$_sources_dir/mvn.log" >&2
      cachefs_die "could not fetch org.gaul:s3proxy:$v:jar:jar-with-dependencies with Maven"
    fi
  fi
  echo "$jar"
}

sources_s3_serve() { # [PORT]
  local port=${1:-9000} jar ns pps
  _sources_need ip nft nsenter curl
  [ -z "$SOURCES_NETNS" ] || cachefs_die "sources_s3_serve: the S3 server is already running"
  [ -x "${JAVA_HOME:-}/bin/java" ] || cachefs_die "sources_s3_serve: JAVA_HOME has no bin/java (call cachefs_setup first)"
  jar=$(_sources_s3proxy_jar) || exit

  ns=cfs-bench-$$
  if ! _sources_mounted /run/netns; then
    if [ -d /run/netns ]; then _sources_netns_mount=mount; else _sources_netns_mount=dir; fi
  fi
  ip netns add "$ns" 2>/dev/null || cachefs_die "could not create network namespace $ns (left by a killed run? ip netns del $ns)"
  SOURCES_NETNS=$ns
  # The cap counts packets, not bytes: an nft byte limit's bucket holds a full second of its rate
  # (the kernel sizes it rate x 1 s + burst), so each new or idle connection would get 40 MiB free:
  # a 256 MiB GET ran at 46 MiB/s and s3fs's first read, over 5 connections, at 295 MB/s.
  # Packets of one size make a packet count a byte count: a jumbo-frame MTU and no segmentation
  # offload, so each data packet is one 9000-byte frame (on average 8850 bytes: a 2% undershoot).
  ip -n "$ns" link set lo mtu 9000 gso_max_segs 1 up
  pps=$(( SOURCES_S3_CAP_MIB * 1048576 / 9000 ))
  # The burst (a quarter second) must outlast the 200 ms that TCP waits before retrying a segment
  # the local filter dropped when nothing else is in flight, or the flow falls far below the cap.
  # Only packets with data count, so the server's ACKs to an upload are not capped.
  nsenter --net="/run/netns/$ns" nft -f - <<EOF || cachefs_die "could not load the per-connection cap into $ns (nft)"
table inet cfs_bench {
  set flows {
    type ipv4_addr . inet_service
    flags dynamic
    timeout 1m
  }
  chain server_out {
    type filter hook output priority filter; policy accept;
    tcp sport $port meta length > 100 update @flows { ip daddr . tcp dport limit rate over $pps/second burst $((pps / 4)) packets } drop
  }
}
EOF

  SOURCES_S3_URL=http://127.0.0.1:$port
  mkdir -p "$_sources_dir/s3"
  cat > "$_sources_dir/s3proxy.properties" <<EOF
s3proxy.endpoint=$SOURCES_S3_URL
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$SOURCES_S3_KEY
s3proxy.credential=$SOURCES_S3_SECRET
jclouds.provider=filesystem
jclouds.filesystem.basedir=$_sources_dir/s3
EOF
  # A small heap: s3proxy streams, and the machine is shared with what is being measured.
  _sources_spawn s3-server nsenter --net="/run/netns/$ns" "$JAVA_HOME/bin/java" -Xmx512m \
    -jar "$jar" --properties "$_sources_dir/s3proxy.properties"
  # Any HTTP answer will do (an anonymous request gets 403).
  _sources_await s3-server "an answer on $SOURCES_S3_URL" sources_net curl -s -o /dev/null "$SOURCES_S3_URL/"
}

sources_net() { # CMD...
  [ -n "$SOURCES_NETNS" ] || cachefs_die "sources_net: start sources_s3_serve first"
  "${_sources_env[@]}" nsenter --net="/run/netns/$SOURCES_NETNS" "$@"
}

# Signed requests: the filesystem backend serves anything other users may read (the POSIX
# "others read" bit) to anonymous requests too, so objects are uploaded rather than copied into
# the basedir, which also gives them an ETag and Content-MD5 as a real store's objects have.
_sources_s3_curl() {
  sources_net curl -s --aws-sigv4 aws:amz:us-east-1:s3 --user "$SOURCES_S3_KEY:$SOURCES_S3_SECRET" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}

sources_s3_put() { # BUCKET FILE [KEY]
  local bucket=$1 file=$2 key=${3:-$(basename "$2")} code
  [ -n "$SOURCES_S3_URL" ] || cachefs_die "sources_s3_put: start sources_s3_serve first"
  [ -f "$file" ] || cachefs_die "sources_s3_put: $file is not a file"
  code=$(_sources_s3_curl -X PUT -o /dev/null -w '%{http_code}' "$SOURCES_S3_URL/$bucket") || true
  case $code in 200|409) ;; *) cachefs_die "sources_s3_put: creating bucket $bucket got HTTP ${code:-no answer}" ;; esac
  code=$(_sources_s3_curl -T "$file" -o /dev/null -w '%{http_code}' "$SOURCES_S3_URL/$bucket/$key") || true
  [ "$code" = 200 ] || cachefs_die "sources_s3_put: uploading $file as $bucket/$key got HTTP ${code:-no answer}"
}

sources_s3_link() { # BUCKET KEY NEWKEY
  local dir=$_sources_dir/s3/$1
  [ -f "$dir/$2" ] || cachefs_die "sources_s3_link: no object $1/$2 (upload it with sources_s3_put first)"
  mkdir -p "$(dirname "$dir/$3")"
  ln "$dir/$2" "$dir/$3"
}

sources_s3_many() { # BUCKET PREFIX N
  local dir=$_sources_dir/s3/$1/$2
  [ -d "$_sources_dir/s3/$1" ] || cachefs_die "sources_s3_many: no bucket $1 (upload something with sources_s3_put first)"
  mkdir -p "$dir"
  (cd "$dir" && seq -f 'obj-%05g' "$3" | xargs touch)
}

_sources_get_target() { # DIR N: where transfer N of sources_s3_get goes
  if [ -n "$1" ]; then echo "$1/part-$2"; else echo /dev/null; fi
}

sources_s3_get() { # BUCKET KEY [RANGE...]
  local url=$SOURCES_S3_URL/$1/$2 range args=()
  [ -n "$SOURCES_S3_URL" ] || cachefs_die "sources_s3_get: start sources_s3_serve first"
  local each=(-f -w '%{size_download} %{time_total}\n' --aws-sigv4 aws:amz:us-east-1:s3
    --user "$SOURCES_S3_KEY:$SOURCES_S3_SECRET" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
  local into=${SOURCES_S3_GET_INTO:-} n=0
  if [ $# -le 2 ]; then
    args=("${each[@]}" -o "$(_sources_get_target "$into" 0)" "$url")
  else
    # One curl for all ranges, each transfer on a new connection at once: the parallel case needs
    # no background jobs that an interrupted script would leave running.
    args=(--parallel --parallel-immediate)
    for range in "${@:3}"; do
      [ ${#args[@]} -eq 2 ] || args+=(--next)
      args+=("${each[@]}" -o "$(_sources_get_target "$into" $n)" -H "Range: bytes=$range" "$url")
      n=$((n + 1))
    done
  fi
  # -s does not silence the parallel progress meter of curl 7.88.
  sources_net curl --no-progress-meter "${args[@]}" || cachefs_die "sources_s3_get: GET $1/$2 failed"
}

# ---- clients of the S3 server

sources_s3fs_mount() { # NAME BUCKET MNT [S3FS_ARGS...]
  local name=$1 bucket=$2 mnt=$3; shift 3
  _sources_need s3fs nsenter fusermount3
  [ -n "$SOURCES_S3_URL" ] || cachefs_die "sources_s3fs_mount: start sources_s3_serve first"
  # s3fs refuses a password file that others can read.
  (umask 077; echo "$SOURCES_S3_KEY:$SOURCES_S3_SECRET" > "$_sources_dir/s3fs.passwd")
  # s3fs copies each open file into a temp file (/tmp by default) as it reads, the whole file by the
  # end, and drops it about a second after the close: on tmpfs that is as much memory.
  mkdir -p "$_sources_dir/$name.tmp"
  _sources_mount_point "$name" "$mnt"
  _sources_spawn "$name" nsenter --net="/run/netns/$SOURCES_NETNS" s3fs "$bucket" "$mnt" -f -o ro \
    -o url="$SOURCES_S3_URL" -o use_path_request_style -o passwd_file="$_sources_dir/s3fs.passwd" \
    -o tmpdir="$_sources_dir/$name.tmp" "$@"
  _sources_await "$name" "a mount on $mnt" _sources_mounted "$mnt"
}

sources_cachefs_mount() { # NAME SRC MNT [CACHEFS_ARGS...]
  local name=$1 src=$2 mnt=$3; shift 3
  _sources_need fusermount3
  [ -f "$CACHEFS_HOME/target/cachefs.jar" ] || cachefs_die "sources_cachefs_mount: build target/cachefs.jar first"
  local java=("$JAVA_HOME/bin/java" "${CACHEFS_DAEMON_JVM[@]}" -Xmx256m ${SOURCES_CACHEFS_JAVA_OPTS:-} -jar "$CACHEFS_HOME/target/cachefs.jar")
  _sources_mount_point "$name" "$mnt"
  case $src in
    s3://*)
      _sources_need nsenter
      [ -n "$SOURCES_S3_URL" ] || cachefs_die "sources_cachefs_mount: start sources_s3_serve first"
      _sources_spawn "$name" nsenter --net="/run/netns/$SOURCES_NETNS" env AWS_ACCESS_KEY_ID="$SOURCES_S3_KEY" \
        AWS_SECRET_ACCESS_KEY="$SOURCES_S3_SECRET" AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
        "${java[@]}" mount --source "$src" --s3-endpoint "$SOURCES_S3_URL" --mount "$mnt" "$@" ;;
    *) _sources_spawn "$name" "${java[@]}" mount --source "$src" --mount "$mnt" "$@" ;;
  esac
  _sources_await "$name" "a mount on $mnt" _sources_mounted "$mnt"
}

sources_rclone_s3_mount() { # NAME BUCKET MNT [RCLONE_FLAGS...]
  local name=$1 bucket=$2 mnt=$3; shift 3
  _sources_need rclone nsenter fusermount3
  [ -n "$SOURCES_S3_URL" ] || cachefs_die "sources_rclone_s3_mount: start sources_s3_serve first"
  _sources_mount_point "$name" "$mnt"
  _sources_spawn "$name" nsenter --net="/run/netns/$SOURCES_NETNS" rclone mount ":s3:$bucket" "$mnt" \
    --config /dev/null --read-only --vfs-cache-mode off --s3-provider Other --s3-endpoint "$SOURCES_S3_URL" \
    --s3-access-key-id "$SOURCES_S3_KEY" --s3-secret-access-key "$SOURCES_S3_SECRET" "$@"
  _sources_await "$name" "a mount on $mnt" _sources_mounted "$mnt"
}
