/** The proxy lives beside the launcher (npm start stalls Postgres through it for the chaos soak). */
export { TcpProxy } from "../../infra/cluster/tcp-proxy.js";
