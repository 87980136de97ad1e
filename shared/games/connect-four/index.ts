export * from "./board.js";
export { connectFour } from "./game.js";
export * from "./rules.js";
