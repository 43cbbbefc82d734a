// One copy for the tests and `npm run cluster`.
export { startRedis, type LocalRedis } from "../../scripts/services/redis.ts";
