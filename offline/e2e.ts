// npm run test:e2e: the end-to-end suite on the real software (tests/e2e/main.ts), run compiled
// through the launcher like the other tools.
export { main } from "../tests/e2e/main";
