/**
 * A TCP proxy on loopback that a test can cut, to make a database server look restarted or
 * unreachable to the processes that connect through it.
 */
import * as net from "node:net"

export interface TcpProxy {
  readonly port: number
  /** Drops every open connection and refuses new ones until `restore`. */
  readonly cut: () => void
  readonly restore: () => void
  readonly close: () => Promise<void>
}

/** Starts a proxy on 127.0.0.1 (a free port) forwarding to `target`. */
export const startTcpProxy = (target: { readonly host: string; readonly port: number }): Promise<TcpProxy> =>
  new Promise((resolve, reject) => {
    const sockets = new Set<net.Socket>()
    let down = false
    const server = net.createServer((client) => {
      if (down) {
        client.destroy()
        return
      }
      const upstream = net.connect(target)
      sockets.add(client)
      sockets.add(upstream)
      const drop = () => {
        client.destroy()
        upstream.destroy()
        sockets.delete(client)
        sockets.delete(upstream)
      }
      client.on("error", drop).on("close", drop)
      upstream.on("error", drop).on("close", drop)
      client.pipe(upstream)
      upstream.pipe(client)
    })
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as net.AddressInfo
      resolve({
        port: address.port,
        cut: () => {
          down = true
          for (const socket of sockets) socket.destroy()
          sockets.clear()
        },
        restore: () => {
          down = false
        },
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          })
      })
    })
  })
