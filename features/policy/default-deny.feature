@policy @severity:critical @docs=security/policy/language/
Feature: A policy that selects a pod for ingress and allows nothing denies every connection to it
  Once a policy selects a pod for ingress, only what some policy allows may reach it (default
  deny). Cilium drops the first packet at delivery to the pod, with a policy verdict and a
  "Policy denied" drop on the monitor of the pod's node.

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
    And the network policy is applied:
      """
      apiVersion: networking.k8s.io/v1
      kind: NetworkPolicy
      metadata:
        name: echo-deny-all
      spec:
        podSelector:
          matchLabels:
            app: echo
        policyTypes:
          - Ingress
      """

  Scenario: Requests to the replica on the other node time out and the drop is on its node
    When pod "client" sends 3 HTTP requests to the "echo" replica on node "worker"
    Then every request times out
    And cilium monitor on node "worker" shows a policy denied drop from pod "client" to the replica of "echo" on node "worker"
    And cilium monitor on node "worker" shows a policy verdict deny from pod "client" to the replica of "echo" on node "worker"

  Scenario: Nobody reaches an echo replica, on the same node or another
    Then the reachability on port 80/TCP is:
      |        | "echo" replica on node "control-plane" | "echo" replica on node "worker" | service "echo" |
      | client | ✗                                      | ✗                               | ✗              |
