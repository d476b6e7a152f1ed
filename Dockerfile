# The CacheFS image, built from this repository:
#   docker build -t cachefs:0.1.0 .
# and run as Kubernetes does it (deploy/kubernetes), or by hand:
#   docker run --rm --privileged -v /mnt/oss/models:/data-oss:ro \
#     -v /mnt/models:/mnt/models:rshared cachefs:0.1.0 \
#     mount --source /data-oss --mount /mnt/models --capacity 20G --admin 0.0.0.0:9100

# Build stage: the same Maven build as bin/cachefs (tests run in CI, not here: they mount FUSE).
FROM maven:3.9-eclipse-temurin-25 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -q -B dependency:go-offline
COPY src ./src
RUN mvn -q -B -DskipTests package

# Run stage: a JRE and fuse3 (fusermount3, for mounts by a non-root user).
FROM eclipse-temurin:25-jre
RUN apt-get update \
    && apt-get install -y --no-install-recommends fuse3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/cachefs.jar /opt/cachefs/cachefs.jar
COPY --from=build /src/target/lib /opt/cachefs/lib
COPY deploy/docker/cachefs /usr/local/bin/cachefs
# /metrics and /status; the peer group's block server
EXPOSE 9100 7070
ENTRYPOINT ["/usr/local/bin/cachefs"]
CMD ["--help"]
