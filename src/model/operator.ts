/** How an operator proved who they are: set by the operator routes' auth (src/admin/operator-auth.ts). */
export interface Operator {
  via: "token" | "access";
  email?: string;
}
