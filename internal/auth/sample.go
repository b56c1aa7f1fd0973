package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// OneTimeAccount is an account just created with a random one-time
// password, to be shown once (on stderr) and changed at first login.
type OneTimeAccount struct {
	Username string
	Password string
	Grants   []Grant
}

// EnsureAdmin creates the account "admin" (管理员, township-wide) with a
// random one-time password when the database has no account at all; the
// password must be changed at the first login and stops working then.
// created is false when accounts exist already (also when another server
// created admin at the same moment).
func (s *Store) EnsureAdmin(ctx context.Context) (acc OneTimeAccount, created bool, err error) {
	n, err := s.CountUsers(ctx)
	if err != nil || n > 0 {
		return acc, false, err
	}
	grants := []Grant{{Role: Admin}}
	_, pw, err := s.CreateUser(ctx, NewUser{Username: "admin", DisplayName: "管理员", Grants: grants})
	if errors.Is(err, ErrExists) {
		return acc, false, nil
	}
	if err != nil {
		return acc, false, err
	}
	return OneTimeAccount{Username: "admin", Password: pw, Grants: grants}, true, nil
}

// CreateSampleUsers adds the desk accounts of the sample township, each
// with a random one-time password (must be changed at first login): one
// per township desk role (乡镇窗口, the three 部门审查, 乡镇审批), a 村级经办
// for each of the first two villages (by code) of the villages layer, a
// 规划编辑 and a 数据分析 without personal data. Accounts that exist
// already are left alone and not returned. Call it after the sample data
// is loaded (the village grants need the villages layer).
func (s *Store) CreateSampleUsers(ctx context.Context) ([]OneTimeAccount, error) {
	type spec struct {
		name, display string
		grant         Grant
	}
	specs := []spec{
		{"window", "乡镇窗口（示例）", Grant{Role: TownshipWindow}},
		{"review-agri", "农业农村办（示例）", Grant{Role: ReviewAgriculture}},
		{"review-nr", "自然资源所（示例）", Grant{Role: ReviewNaturalResources}},
		{"review-plan", "规划建设办（示例）", Grant{Role: ReviewPlanning}},
		{"approver", "乡镇审批（示例）", Grant{Role: TownshipApprover}},
		{"editor", "规划编辑（示例）", Grant{Role: PlanningEditor}},
		{"analyst", "数据分析（示例，无个人信息）", Grant{Role: DataAnalyst}},
	}
	rows, err := s.pool.Query(ctx, `SELECT xzqdm, xzqmc FROM villageplan.villages ORDER BY xzqdm LIMIT 2`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var code, name string
		if err := rows.Scan(&code, &name); err != nil {
			rows.Close()
			return nil, err
		}
		specs = append(specs, spec{"clerk-" + code[len(code)-3:], name + "村级经办（示例）", Grant{Role: VillageClerk, Village: code}})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []OneTimeAccount
	for _, sp := range specs {
		_, pw, err := s.CreateUser(ctx, NewUser{Username: sp.name, DisplayName: sp.display, Grants: []Grant{sp.grant}})
		if errors.Is(err, ErrExists) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("sample user %s: %w", sp.name, err)
		}
		out = append(out, OneTimeAccount{Username: sp.name, Password: pw, Grants: []Grant{sp.grant}})
	}
	return out, nil
}

// PrintOneTimeAccounts writes the block of new accounts and their one-time
// passwords (shown this once) to w, in Chinese and English.
func PrintOneTimeAccounts(w io.Writer, accs []OneTimeAccount) {
	if len(accs) == 0 {
		return
	}
	fmt.Fprintln(w, "──────── 一次性密码（仅显示这一次，首次登录后须修改） One-time passwords (shown once; change at first login) ────────")
	for _, a := range accs {
		var roles []string
		for _, g := range a.Grants {
			r := g.Role.Label()
			if g.Village != "" {
				r += "@" + g.Village
			}
			roles = append(roles, r)
		}
		fmt.Fprintf(w, "  %-14s %s   %s\n", a.Username, a.Password, strings.Join(roles, ", "))
	}
	fmt.Fprintln(w, "────────────────────────────────────────────────────────────────────────────────")
}
