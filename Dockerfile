# meshsight container image. tsx is a runtime dependency (meshsight runs its TypeScript sources as they are,
# no build step), so `npm ci --omit=dev` keeps everything `meshsight start` needs; test/deploy checks that
# every package the runtime code imports is a production dependency.
FROM node:20-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

FROM node:20-slim
ENV NODE_ENV=production \
    MESHSIGHT_DATA_DIR=/var/lib/meshsight
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json tsconfig.json cli.ts cli-sections.ts ./
COPY bin ./bin
COPY core ./core
COPY collector ./collector
COPY prober ./prober
COPY analyzer ./analyzer
COPY dashboards ./dashboards
RUN mkdir -p /var/lib/meshsight && chown node:node /var/lib/meshsight
# The node image's unprivileged user (uid 1000), as the Kubernetes manifests expect.
USER node
# HTTP API and probes, Envoy ALS, OTLP gRPC and HTTP, Zipkin.
EXPOSE 8080 11800 4317 4318 9411
ENTRYPOINT ["node", "bin/meshsight.mjs"]
CMD ["start"]
