#!/bin/bash
# Start the broker. Every KAFKA_* variable except the JVM ones becomes a server property,
# as in apache/kafka: KAFKA_LOG_DIRS -> log.dirs ('_' -> '.', '__' -> '_', '___' -> '-').
# CLUSTER_ID (random if unset) formats the log dir on the first start.
set -euo pipefail
home=/opt/kafka
conf=$home/config/server.properties
jvm_vars=" KAFKA_HEAP_OPTS KAFKA_OPTS KAFKA_JVM_PERFORMANCE_OPTS KAFKA_LOG4J_OPTS KAFKA_JMX_OPTS "

property_name() {
  local n=${1#KAFKA_}
  n=${n,,}; n=${n//___/-}; n=${n//__/@}; n=${n//_/.}
  echo "${n//@/_}"
}

cp "$home/defaults/server.properties" "$conf"
while IFS='=' read -r name value; do
  [[ $name == KAFKA_* && $jvm_vars != *" $name "* ]] || continue
  echo "$(property_name "$name")=$value" >>"$conf"
done < <(env)

log_dir=$(sed -n 's/^log\.dirs=//p' "$conf" | tail -1)
java_opts=(-Djava.awt.headless=true -XX:+UseG1GC
  "-Dlog4j2.configurationFile=$home/defaults/log4j2.properties" -cp "$home/libs/*")
if [[ ! -f ${log_dir%%,*}/meta.properties ]]; then
  cluster_id=${CLUSTER_ID:-$(cat /proc/sys/kernel/random/uuid | tr -d - | head -c 22)}
  # A short-lived JVM: a small heap and no optimising JIT, so it starts on a busy machine.
  java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$home/defaults/log4j2.properties" -cp "$home/libs/*" \
    kafka.tools.StorageTool format --cluster-id="$cluster_id" -c "$conf" --ignore-formatted >/dev/null
fi
# shellcheck disable=SC2086  # the KAFKA_*_OPTS are word lists
exec java ${KAFKA_HEAP_OPTS:-} ${KAFKA_JVM_PERFORMANCE_OPTS:-} ${KAFKA_OPTS:-} "${java_opts[@]}" \
  kafka.Kafka "$conf"
