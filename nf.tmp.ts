import http from 'node:http';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { makeKubeApi } from './src/controller/kube-http.js';
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
  res.write('{"items": [');
  setTimeout(() => req.socket.destroy(), 50);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as any).port;
const kc = new KubeConfig();
kc.loadFromOptions({ clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
const which = process.argv[2];
const api = which === 'ours' ? makeKubeApi(kc, CoreV1Api) : kc.makeApiClient(CoreV1Api);
try { await api.listNamespacedConfigMap({ namespace: 'x' }); console.log('resolved?'); } catch (e) { console.log('rejected:', (e as Error).message); }
server.close();
