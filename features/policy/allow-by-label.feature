@policy @severity:critical @docs=security/policy/language/#layer-3-examples
Feature: An ingress rule allows pods by label and namespace, and no one else
  A rule's podSelector picks peers in the policy's namespace by their labels; a pod with other
  labels, or in another namespace, stays denied by the same policy.

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
    And a client pod "intruder" in namespace "other" on node "worker" with labels "app=intruder"
    And the network policy is applied:
      """
      apiVersion: networking.k8s.io/v1
      kind: NetworkPolicy
      metadata:
        name: echo-from-client
      spec:
        podSelector:
          matchLabels:
            app: echo
        ingress:
          - from:
              - podSelector:
                  matchLabels:
                    app: client
      """

  Scenario: The client reaches every replica and the intruder none
    Then the reachability on port 80/TCP is:
      |          | "echo" replica on node "control-plane" | "echo" replica on node "worker" |
      | client   | ✓                                      | ✓                               |
      | intruder | ✗                                      | ✗                               |

  Scenario: The intruder's packets are dropped at delivery with a deny verdict
    When pod "intruder" sends 2 HTTP requests to the "echo" replica on node "worker"
    Then every request times out
    And cilium monitor on node "worker" shows a policy denied drop from pod "intruder" to the replica of "echo" on node "worker"
