@policy @docs=security/policy/intro/#policy-enforcement-modes
Feature: Replies pass through connection tracking even when the replying pod may send nothing
  The echo may receive from the client but may not open any connection itself (egress enforced,
  no egress rule). Its replies still leave it: connection tracking knows them as replies to a
  connection its ingress policy allowed, so no verdict is taken for them.

  Background:
    Given a cluster from kind config "two-node.yaml"
    And Cilium is installed with:
      | routingMode           | native     |
      | kubeProxyReplacement  | false      |
      | autoDirectNodeRoutes  | true       |
      | ipam.mode             | kubernetes |
      | ipv4NativeRoutingCIDR | 10.0.0.0/8 |
    And an echo deployment "echo" with a replica on every node behind NodePort service "echo" port 80 node port 30080
    And a client pod "client" in namespace "default" on node "control-plane" with labels "app=client"
    And the network policy is applied:
      """
      apiVersion: networking.k8s.io/v1
      kind: NetworkPolicy
      metadata:
        name: echo-in-only
      spec:
        podSelector:
          matchLabels:
            app: echo
        policyTypes:
          - Ingress
          - Egress
        ingress:
          - from:
              - podSelector:
                  matchLabels:
                    app: client
      """

  Scenario: The client's requests are answered across nodes although the echo has no egress rule
    When pod "client" sends 4 HTTP requests to the "echo" replica on node "worker"
    Then all 4 requests succeed
    And cilium monitor on node "worker" shows a policy verdict allow from pod "client" to the replica of "echo" on node "worker"

  Scenario: The same on one node
    When pod "client" sends 4 HTTP requests to the "echo" replica on node "control-plane"
    Then all 4 requests succeed
    And cilium monitor on node "control-plane" shows a policy verdict allow from pod "client" to the replica of "echo" on node "control-plane"
