#!/bin/bash
# Instructions per delivery, counted by callgrind (repeatable whatever else the machine does).
#
#   bench/scripts/callgrind-fanout.sh PARLOR_BINARY [OUT_DIR]
#
# Spawns PARLOR_BINARY under `valgrind --tool=callgrind` with instrumentation off, runs
# `parlor-bench fanout` (5 conversations x 20 members, 1 msg/s each: 1,900 deliveries/s, light
# enough for a server slowed about 50x), waits until deliveries flow, then counts 15 s of steady
# state: instrumentation on, dump, off. The server's own counter (`parlor_deliveries_total`, read
# from a metrics listener on 127.0.0.1:19912) gives the deliveries in that window. Prints the
# instructions of the whole process, of the HTTP worker thread (`LocalSet::tick`: sessions,
# rooms, connections) and of the database writer, each per delivery.
# Needs valgrind and a release build of parlor-bench (target/release/parlor-bench).
set -euo pipefail
PARLOR=$(readlink -f "$1")
OUT=${2:-$(mktemp -d)}
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
BENCH=$(readlink -f "$(dirname "$0")/../../target/release/parlor-bench")
METRICS=127.0.0.1:19912
WRAP="$OUT/parlor-under-callgrind.sh"
printf '#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=%s/callgrind.out.%%p %s\n' \
  "$OUT" "$PARLOR" > "$WRAP"
chmod +x "$WRAP"
deliveries() { curl -s "http://$METRICS/metrics" | awk '/^parlor_deliveries_total/ {print $2}'; }
PARLOR__METRICS__LISTEN=$METRICS "$BENCH" fanout --spawn "$WRAP" --rooms 5 --members 20 --rate 1 \
  --duration-s 60 --warmup-s 5 > "$OUT/fanout.txt" 2>&1 &
RUN=$!
for _ in $(seq 1 200); do
  sleep 2
  n=$(deliveries || true)
  if [ -n "$n" ] && [ "$n" -gt 2000 ]; then break; fi
done
sleep 5
PID=$(pgrep -f "valgrind.*$PARLOR" | head -1)
D1=$(deliveries)
callgrind_control -i on "$PID" > /dev/null 2>&1
sleep 15
callgrind_control -d "$PID" > /dev/null 2>&1
D2=$(deliveries)
callgrind_control -i off "$PID" > /dev/null 2>&1
wait "$RUN"
DUMP=$(ls -t "$OUT"/callgrind.out.*.1 | head -1)
N=$((D2 - D1))
inclusive() { callgrind_annotate --inclusive=yes "$DUMP" 2>/dev/null | grep -F "$1" | head -1 | awk '{gsub(",", "", $1); print $1}'; }
TOTAL=$(grep '^summary:' "$DUMP" | awk '{print $2}')
WORKER=$(inclusive 'tokio::task::local::LocalSet::tick')
WRITER=$(inclusive 'DbWriter as actix::handler::Handler<parlor::actors::db_writer::WriteBatch>>::handle')
echo "deliveries counted: $N ($(tail -1 "$OUT/fanout.txt"))"
echo "instructions per delivery: process $((TOTAL / N)), HTTP worker $((WORKER / N)), database writer $((WRITER / N))"
echo "profile: callgrind_annotate $DUMP"
