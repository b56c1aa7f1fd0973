package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"villageplan/internal/auth"
)

// withAccounts opens the database of g (embedded default or URL, migrated)
// and runs fn with its accounts store; every change is written to the
// audit log as done by "cli".
func withAccounts(g *globalFlags, fn func(ctx context.Context, s *auth.Store, out io.Writer) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		pool, closeDB, err := openDatabase(ctx, g, g.logger())
		if err != nil {
			return err
		}
		defer closeDB()
		return fn(ctx, auth.NewStore(pool), cmd.OutOrStdout())
	}
}

// cliAudit records a change made on the command line.
func cliAudit(ctx context.Context, s *auth.Store, action, kind, id string, details any) error {
	return auth.Audit(ctx, s.Pool(), nil, auth.AuditEntry{Action: action, SubjectKind: kind, SubjectID: id, Details: details})
}

// userByName finds the account or says which name was not found.
func userByName(ctx context.Context, s *auth.Store, name string) (auth.User, error) {
	u, err := s.UserByName(ctx, name)
	if err == auth.ErrNotFound {
		return u, fmt.Errorf("没有用户 %q；villageplan user list 列出全部。 No user %q; villageplan user list shows them all", name, name)
	}
	return u, err
}

// grantsText is "乡镇窗口 (township_window), 村级经办 (village_clerk) @220112203301".
func grantsText(gs []auth.Grant) string {
	var parts []string
	for _, g := range gs {
		p := g.Role.Label() + " (" + string(g.Role) + ")"
		if g.Village != "" {
			p += " @" + g.Village
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ", ")
}

func roleHelp() string {
	var parts []string
	for _, r := range auth.AllRoles {
		parts = append(parts, string(r)+" "+r.Label())
	}
	return strings.Join(parts, "; ")
}

func newUserCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "manage accounts: add, list, disable, enable, passwd, role",
		Long: `Accounts of the service. Passwords are never chosen on the command line:
add and passwd print a random one-time password once, which must be changed at
the first login. Roles (scoped to the township, or to one village with
--village CODE): ` + roleHelp() + ".",
	}
	var display string
	var roles []string
	var village string
	add := &cobra.Command{Use: "add NAME", Short: "create an account and print its one-time password", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccounts(g, func(ctx context.Context, s *auth.Store, out io.Writer) error {
				var grants []auth.Grant
				for _, r := range roles {
					grants = append(grants, auth.Grant{Role: auth.Role(r), Village: village})
				}
				u, pw, err := s.CreateUser(ctx, auth.NewUser{Username: args[0], DisplayName: display, Grants: grants})
				if err != nil {
					return err
				}
				if err := cliAudit(ctx, s, "user.create", "user", strconv.FormatInt(u.ID, 10), map[string]any{"username": u.Username, "grants": u.Grants}); err != nil {
					return err
				}
				auth.PrintOneTimeAccounts(out, []auth.OneTimeAccount{{Username: u.Username, Password: pw, Grants: u.Grants}})
				return nil
			})(cmd, args)
		}}
	add.Flags().StringVar(&display, "display-name", "", "name shown in the pages (e.g. 张三)")
	add.Flags().StringArrayVar(&roles, "role", nil, "role to grant (repeatable)")
	add.Flags().StringVar(&village, "village", "", "12-digit village code the --role grants are limited to (default: the whole township)")

	list := &cobra.Command{Use: "list", Short: "list accounts with their roles", Args: cobra.NoArgs,
		RunE: withAccounts(g, func(ctx context.Context, s *auth.Store, out io.Writer) error {
			us, err := s.Users(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\t用户名 username\t姓名 name\t状态 state\t角色 roles")
			for _, u := range us {
				state := "启用 enabled"
				if u.Disabled {
					state = "停用 disabled"
				} else if u.MustChangePassword {
					state = "待改密 one-time password"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", u.ID, u.Username, u.DisplayName, state, grantsText(u.Grants))
			}
			return tw.Flush()
		})}

	setDisabled := func(use, short string, disabled bool) *cobra.Command {
		return &cobra.Command{Use: use + " NAME", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withAccounts(g, func(ctx context.Context, s *auth.Store, out io.Writer) error {
					u, err := userByName(ctx, s, args[0])
					if err != nil {
						return err
					}
					if err := s.SetDisabled(ctx, u.ID, disabled); err != nil {
						return err
					}
					if err := cliAudit(ctx, s, "user.update", "user", strconv.FormatInt(u.ID, 10), map[string]any{"disabled": disabled}); err != nil {
						return err
					}
					fmt.Fprintf(out, "%s: %s\n", u.Username, map[bool]string{true: "已停用，会话已结束 disabled, sessions ended", false: "已启用 enabled"}[disabled])
					return nil
				})(cmd, args)
			}}
	}

	passwd := &cobra.Command{Use: "passwd NAME", Short: "reset the password to a new one-time password (printed once) and end the sessions", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccounts(g, func(ctx context.Context, s *auth.Store, out io.Writer) error {
				u, err := userByName(ctx, s, args[0])
				if err != nil {
					return err
				}
				pw, err := s.ResetPassword(ctx, u.ID)
				if err != nil {
					return err
				}
				if err := cliAudit(ctx, s, "user.update", "user", strconv.FormatInt(u.ID, 10), map[string]any{"reset_password": true}); err != nil {
					return err
				}
				auth.PrintOneTimeAccounts(out, []auth.OneTimeAccount{{Username: u.Username, Password: pw, Grants: u.Grants}})
				return nil
			})(cmd, args)
		}}

	role := &cobra.Command{Use: "role", Short: "grant or take a role: user role add|remove NAME ROLE [--village CODE]"}
	var roleVillage string
	roleCmd := func(use string, remove bool) *cobra.Command {
		c := &cobra.Command{Use: use + " NAME ROLE", Short: use + " a role (township-wide, or in one village with --village)", Args: cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withAccounts(g, func(ctx context.Context, s *auth.Store, out io.Writer) error {
					u, err := userByName(ctx, s, args[0])
					if err != nil {
						return err
					}
					gr := auth.Grant{Role: auth.Role(args[1]), Village: roleVillage}
					if remove {
						err = s.RemoveGrant(ctx, u.ID, gr)
					} else {
						err = s.AddGrant(ctx, u.ID, gr)
					}
					if err != nil {
						return err
					}
					if err := cliAudit(ctx, s, "user.update", "user", strconv.FormatInt(u.ID, 10), map[string]any{use + "_grant": gr}); err != nil {
						return err
					}
					u, err = s.User(ctx, u.ID)
					if err != nil {
						return err
					}
					fmt.Fprintf(out, "%s: %s\n", u.Username, grantsText(u.Grants))
					return nil
				})(cmd, args)
			}}
		c.Flags().StringVar(&roleVillage, "village", "", "12-digit village code (default: the whole township)")
		return c
	}
	role.AddCommand(roleCmd("add", false), roleCmd("remove", true))
	cmd.AddCommand(add, list, setDisabled("disable", "disable an account (ends its sessions; its tokens stop working)", true),
		setDisabled("enable", "enable a disabled account", false), passwd, role)
	return cmd
}

func newTokenCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "API tokens for scripts and QGIS: create, list, revoke",
		Long: `API tokens authenticate scripts and QGIS (header Authorization: Bearer vp_…).
The secret is printed once by create and stored only as its SHA-256.`}
	var name string
	var days int
	create := &cobra.Command{Use: "create USER --name NAME", Short: "create a token for USER and print its secret once", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccounts(g, func(ctx context.Context, s *auth.Store, out io.Writer) error {
				u, err := userByName(ctx, s, args[0])
				if err != nil {
					return err
				}
				secret, tok, err := s.CreateToken(ctx, u.ID, name, time.Duration(days)*24*time.Hour)
				if err != nil {
					return err
				}
				if err := cliAudit(ctx, s, "token.create", "api_token", strconv.FormatInt(tok.ID, 10), map[string]any{"user": u.Username, "name": tok.Name}); err != nil {
					return err
				}
				fmt.Fprintf(out, "令牌 %d（%s，用户 %s）只显示这一次 token %d shown once:\n%s\n", tok.ID, tok.Name, u.Username, tok.ID, secret)
				return nil
			})(cmd, args)
		}}
	create.Flags().StringVar(&name, "name", "", "what the token is for (e.g. \"QGIS 规划办\")")
	create.Flags().IntVar(&days, "expires-days", 0, "days until it expires (0: until revoked)")
	_ = create.MarkFlagRequired("name")

	list := &cobra.Command{Use: "list [USER]", Short: "list tokens (of USER, or all), never their secrets", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccounts(g, func(ctx context.Context, s *auth.Store, out io.Writer) error {
				var uid int64
				if len(args) == 1 {
					u, err := userByName(ctx, s, args[0])
					if err != nil {
						return err
					}
					uid = u.ID
				}
				ts, err := s.Tokens(ctx, uid)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\t用户 user\t名称 name\t前缀 prefix\t创建 created\t最近使用 last used\t状态 state")
				for _, t := range ts {
					state := "有效 valid"
					switch {
					case t.RevokedAt != nil:
						state = "已撤销 revoked " + t.RevokedAt.Format(time.DateOnly)
					case t.ExpiresAt != nil && !time.Now().Before(*t.ExpiresAt):
						state = "已过期 expired"
					case t.ExpiresAt != nil:
						state += " → " + t.ExpiresAt.Format(time.DateOnly)
					}
					last := "—"
					if t.LastUsedAt != nil {
						last = t.LastUsedAt.Format(time.DateTime)
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s…\t%s\t%s\t%s\n", t.ID, t.Username, t.Name, t.Prefix, t.CreatedAt.Format(time.DateOnly), last, state)
				}
				return tw.Flush()
			})(cmd, args)
		}}

	revoke := &cobra.Command{Use: "revoke ID", Short: "revoke a token (it stops working at once)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("令牌编号 %q 须为整数（见 villageplan token list）。 The token id %q must be a number (see villageplan token list)", args[0], args[0])
			}
			return withAccounts(g, func(ctx context.Context, s *auth.Store, out io.Writer) error {
				if err := s.RevokeToken(ctx, 0, id); err != nil {
					return err
				}
				if err := cliAudit(ctx, s, "token.revoke", "api_token", args[0], nil); err != nil {
					return err
				}
				fmt.Fprintf(out, "令牌 %d 已撤销 token %d revoked\n", id, id)
				return nil
			})(cmd, args)
		}}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
