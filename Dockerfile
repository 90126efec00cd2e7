# Sticky node image: the launcher on a JRE, as a non-root user. It serves the entity types of the jars in
# /opt/sticky/lib (STICKY_LIB), or the example types "counter" and "cart" when there are none.
#
#   docker build -t sticky .
#   docker run --rm -p 8080:8080 sticky                     # one node, example types
#   docker run --rm -p 8080:8080 -v $PWD/lib:/opt/sticky/lib:ro sticky   # your types (README: your own entity types)
#
# Clustering containers: every node must set
#   STICKY_HOST    the container's own IP, reachable by the other nodes. Hazelcast binds only this address
#                  (hazelcast.socket.bind.any=false) and advertises it; the default 127.0.0.1 only works
#                  for a single node. In Kubernetes, take it from the downward API (status.podIP).
#   STICKY_MEMBERS the peers to join through, e.g. 10.0.0.11:5701,10.0.0.12:5701,10.0.0.13:5701
#                  (in Kubernetes, STICKY_KUBERNETES_SERVICE_DNS instead: see deploy/kubernetes/)
# Nodes must reach each other directly on one container network (pod network, Docker user network):
# Hazelcast on 5701 and the event bus on STICKY_BUS_PORT (fixed to 5801 here so it can be declared).
#
# Health: no HEALTHCHECK here (Kubernetes ignores it; deploy/docker-compose.yml declares one with the curl
# that eclipse-temurin's Ubuntu images ship). Probe GET /health/ready (readiness: 200 once joined,
# registered and the state stores answer, else 503) and GET /health/live (liveness) from the orchestrator.
# Prometheus metrics: GET /metrics on the HTTP port.
#
# Shutdown: SIGTERM reaches java (exec below); the node then leaves the cluster cleanly, waiting up to 30 s.
# Give it that long (docker stop -t 30, Kubernetes terminationGracePeriodSeconds >= 30).

# ---- build ----
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /build
# Dependencies first, so they are cached in their own layer until pom.xml changes.
COPY pom.xml .
RUN mvn -B dependency:go-offline
COPY src ./src
RUN mvn -B -q package -DskipTests

# ---- runtime ----
FROM eclipse-temurin:17-jre
RUN groupadd --system --gid 10001 sticky \
 && useradd --system --uid 10001 --gid sticky --home-dir /app --no-create-home --shell /usr/sbin/nologin sticky
WORKDIR /app
# Owned by root and read-only for the process user.
COPY --from=build /build/target/sticky.jar /app/sticky.jar
# Class-data-sharing archive: the training run (three nodes in one JVM on loopback that serve, hand shards
# over and leave; about a minute) records every class and lambda proxy they loaded, so a node maps them
# instead of loading, verifying and spinning them. On the 2-core test box a joining node was ready in 5.6 s
# instead of 9.7 s, and its first hand-offs cost less (bench/README.md, "Results: a class-data-sharing
# archive"). Made here, with this image's JVM and jar, because an archive only applies to the JVM and jar it
# was made with. The build fails if the training run does (it checks its counters). A node that cannot map the archive runs without it (-Xshare:auto, the default). The app archive
# extends the JDK's base archive, which some JDK builds do not ship: -Xshare:dump makes it if missing.
RUN if [ ! -f "$JAVA_HOME/lib/server/classes.jsa" ]; then java -Xshare:dump >/dev/null; fi \
 && if ! java -Xmx512m -XX:ArchiveClassesAtExit=/app/sticky.jsa -jar /app/sticky.jar --training-run >/tmp/training.log 2>&1; \
    then tail -50 /tmp/training.log; exit 1; fi \
 && rm -f /tmp/training.log && chmod 444 /app/sticky.jsa
RUN mkdir -p /opt/sticky/lib
USER 10001:10001

# HTTP gateway; Hazelcast (first port 5701, auto-increment); event bus.
EXPOSE 8080 5701-5705 5801

# Explicit for containers (also the launcher's default): the gateway listens on all interfaces.
ENV STICKY_HTTP_HOST=0.0.0.0
# Jars with your entity types (io.sticky.spi.EntityTypeProvider): mount them here or COPY them in a derived image.
ENV STICKY_LIB=/opt/sticky/lib
# A fixed event-bus port, so it can be declared and allowed between nodes.
ENV STICKY_BUS_PORT=5801
# Container-aware heap sizing; exit on OOM so the orchestrator restarts the node; bound the common pool.
ENV JAVA_OPTS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -Djava.util.concurrent.ForkJoinPool.common.parallelism=2"

# sh -c so JAVA_OPTS expands; exec so java is PID 1 and gets SIGTERM; "$@" passes `docker run` arguments
# through as launcher flags (e.g. docker run sticky --http-port 8081).
# The archive's option is here, not in JAVA_OPTS, so that setting JAVA_OPTS does not drop it.
ENTRYPOINT ["sh", "-c", "exec java -XX:SharedArchiveFile=/app/sticky.jsa $JAVA_OPTS -jar /app/sticky.jar \"$@\"", "sticky"]
