# Deployment image. NOT buildable on the development machines of this project (they have no Docker
# engine); kept for deployment pipelines that do. Build: docker build -t process-dashboard-api .
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production API_HOST=0.0.0.0 API_PORT=8000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY generated/openapi.json ./generated/openapi.json
COPY generated/types ./generated/types
COPY migrations ./migrations
USER node
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:8000/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--max-semi-space-size=2", "--heap-growing-percent=10", "src/start.js"]
