# The API (serverless-offline) for docker-compose; `npm start` inside, pointed at LocalStack and Redis.
FROM node:22-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
CMD ["npm", "start"]
