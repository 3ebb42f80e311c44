@policy @docs=security/policy/language/#layer-4-examples
Feature: A rule with ports only allows those ports from anyone
  A CiliumNetworkPolicy rule with toPorts and no fromEndpoints allows its ports from every peer
  (an L4-only match) and nothing else.

  Background:
    Given a cluster from kind config "two-node.yaml"
    And Cilium is installed with:
      | routingMode           | native     |
      | kubeProxyReplacement  | false      |
      | autoDirectNodeRoutes  | true       |
      | ipam.mode             | kubernetes |
      | ipv4NativeRoutingCIDR | 10.0.0.0/8 |
    And an echo deployment "echo" with a replica on every node behind NodePort service "echo" port 80 node port 30080
    And a client pod "client" on node "control-plane"

  Scenario: Port 80 allowed on its own is reached, with an allow verdict
    Given the network policy is applied:
      """
      apiVersion: cilium.io/v2
      kind: CiliumNetworkPolicy
      metadata:
        name: echo-port-80
      spec:
        endpointSelector:
          matchLabels:
            app: echo
        ingress:
          - toPorts:
              - ports:
                  - port: "80"
                    protocol: TCP
      """
    When pod "client" sends 3 HTTP requests to the "echo" replica on node "worker"
    Then all 3 requests succeed
    And cilium monitor on node "worker" shows a policy verdict allow from pod "client" to the replica of "echo" on node "worker"

  Scenario: Only port 8080 allowed: port 80 is denied
    Given the network policy is applied:
      """
      apiVersion: cilium.io/v2
      kind: CiliumNetworkPolicy
      metadata:
        name: echo-port-8080
      spec:
        endpointSelector:
          matchLabels:
            app: echo
        ingress:
          - toPorts:
              - ports:
                  - port: "8080"
                    protocol: TCP
      """
    Then the reachability on port 80/TCP is:
      |        | "echo" replica on node "control-plane" | "echo" replica on node "worker" |
      | client | ✗                                      | ✗                               |
