# Apache Kafka (KRaft) where apache/kafka cannot be pulled: Debian's JRE plus the broker
# jars Maven Central serves for deploy/local/kafka/pom.xml (the native stack's list).
# Configured like apache/kafka: KAFKA_* variables become server properties, CLUSTER_ID
# formats the log dir on first start (deploy/images/kafka/run.sh).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE} AS jre
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      openjdk-17-jre-headless >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

# --- jars: mvn resolves the same pom as deploy/local/infra.sh --------------------------
FROM jre AS jars
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      maven >/dev/null
COPY deploy/local/kafka/pom.xml /build/pom.xml
RUN --mount=type=cache,target=/root/.m2 \
    mvn -q -B -f /build/pom.xml package -Dlibs.dir=/opt/kafka/libs -Dbuild.dir=/build/target

# --- runtime -----------------------------------------------------------------------------
FROM jre
RUN groupadd --system --gid 10002 kafka \
 && useradd --system --uid 10002 --gid kafka --home-dir /opt/kafka --no-create-home \
      --shell /usr/sbin/nologin kafka \
 && mkdir -p /var/lib/kafka/data /opt/kafka/config \
 && chown kafka:kafka /var/lib/kafka/data /opt/kafka/config
COPY --from=jars /opt/kafka/libs /opt/kafka/libs
COPY deploy/local/kafka/log4j2.properties deploy/images/kafka/server.properties /opt/kafka/defaults/
COPY deploy/images/kafka/run.sh /opt/kafka/bin/overlap-kafka
COPY deploy/images/kafka/kafka-broker-api-versions.sh /opt/kafka/bin/
ENV KAFKA_HEAP_OPTS="-Xms256m -Xmx512m"
USER kafka
EXPOSE 9092
HEALTHCHECK --interval=10s --timeout=10s --start-period=20s --retries=12 \
  CMD /opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server 127.0.0.1:9092 || exit 1
CMD ["/opt/kafka/bin/overlap-kafka"]
