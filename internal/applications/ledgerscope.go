package applications

import (
	"slices"

	"villageplan/internal/auth"
	"villageplan/internal/documents"
)

// ledgerScope is the villages whose 台账 rows p may read: those of its desk
// roles (each entitled to the personal data of its scope) and those of a
// 数据分析 grant (the ledger is a download; personal data only where p may
// also read it, auth.Principal.MayReadPersonal, else masked by
// maskLedger). township is true for a township-wide grant.
func ledgerScope(p *auth.Principal) (township bool, villages []string) {
	if p == nil {
		return false, nil
	}
	for _, g := range p.Grants {
		if g.Role != auth.DataAnalyst && !slices.Contains(auth.DeskRoles, g.Role) {
			continue
		}
		if g.Village == auth.TownshipWide {
			return true, nil
		}
		if !slices.Contains(villages, g.Village) {
			villages = append(villages, g.Village)
		}
	}
	return false, villages
}

// maskLedger masks, in place, the applicant's name (surname only) and 身份证号
// (first and last 4) of every row whose village p may not read personal
// data of, marking it Masked, and returns the ids of the rows read in full
// (for the audit).
func maskLedger(p *auth.Principal, rows []LedgerRow) []int64 {
	ids := make([]int64, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		if p.MayReadPersonal(r.VillageCode) {
			ids = append(ids, r.ApplicationID)
			continue
		}
		r.ApplicantName, r.ApplicantIDNumber, r.Masked = documents.MaskName(r.ApplicantName), documents.MaskID(r.ApplicantIDNumber), true
	}
	return ids
}
