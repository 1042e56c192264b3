# The API (serverless-offline) for docker-compose; `npm start` inside, pointed at LocalStack and Redis.
FROM node:22-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV HOST=0.0.0.0 PORT=8000
# glibc malloc settings for image processes: see lib/core/process-env.ts (a unit test keeps them equal).
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456
EXPOSE 8000
CMD ["npm", "start"]
