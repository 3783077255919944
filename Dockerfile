# meshsight container image. `npm ci` runs the `prepare` script, which compiles the TypeScript sources to
# JavaScript under dist/ (with esbuild, a production dependency), so the sources are copied before it; the
# final image holds the production dependencies, dist/ and the bin, and runs no TypeScript loader.
# test/deploy checks that every package the runtime code imports is a production dependency.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY cli.ts cli-sections.ts ./
COPY core ./core
COPY collector ./collector
COPY prober ./prober
COPY analyzer ./analyzer
COPY dashboards ./dashboards
RUN npm ci --omit=dev && npm cache clean --force

FROM node:20-slim
ENV NODE_ENV=production \
    MESHSIGHT_DATA_DIR=/var/lib/meshsight
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
RUN mkdir -p /var/lib/meshsight && chown node:node /var/lib/meshsight
# The node image's unprivileged user (uid 1000), as the Kubernetes manifests expect.
USER node
# HTTP API and probes, Envoy ALS, OTLP gRPC and HTTP, Zipkin.
EXPOSE 8080 11800 4317 4318 9411
ENTRYPOINT ["node", "bin/meshsight.mjs"]
CMD ["start"]
