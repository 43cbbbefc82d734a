// One copy for the tests and `npm run cluster`.
export { freePort, startPostgres, type LocalPostgres } from "../../scripts/services/postgres.ts";
