package access

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestRoleAllows(t *testing.T) {
	// want is "CRUD" with '-' for a denied action (design.md §4).
	tests := []struct {
		role Role
		name string
		want string
	}{
		{Owner, "Owner", "CRUD"},
		{Maintainer, "Maintainer", "CRUD"},
		{Developer, "Developer", "CRUD"},
		{Reporter, "Reporter", "-R--"},
		{Planner, "Planner", "-R--"},
		{Guest, "Guest", "-R--"},
		{Minimal, "Minimal access", "----"},
		{NoAccess, "No access", "----"},
		{Role(-1), "Role(-1)", "----"},
		{Role(25), "Role(25)", "-R--"},
		{Role(60), "Role(60)", "CRUD"},
	}
	if len(Roles()) != 8 {
		t.Fatalf("Roles() = %v, want the 8 GitLab levels", Roles())
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got strings.Builder
			for i, a := range []Action{Create, Read, Update, Delete} {
				if tt.role.Allows(a) {
					got.WriteByte("CRUD"[i])
				} else {
					got.WriteByte('-')
				}
			}
			if got.String() != tt.want {
				t.Errorf("%v: got %s, want %s", tt.role, got.String(), tt.want)
			}
			if tt.role.String() != tt.name {
				t.Errorf("String() = %q, want %q", tt.role.String(), tt.name)
			}
			if (Grant{Role: tt.role}).Allows(Read) != tt.role.Allows(Read) {
				t.Error("Grant.Allows differs from Role.Allows")
			}
		})
	}
	if Role(50).Allows(Action(0)) || Owner.Allows(Action(9)) {
		t.Error("unknown actions must be allowed to nobody")
	}
	if Read.MinRole() != Guest || Update.MinRole() != Developer || Create.String() != "create" || Delete.String() != "delete" {
		t.Error("Action.MinRole / String")
	}
}

func TestParseRole(t *testing.T) {
	good := map[string]Role{
		"owner": Owner, "Maintainer": Maintainer, "DEVELOPER": Developer, "reporter": Reporter,
		"planner": Planner, "guest": Guest, "Minimal access": Minimal, "minimal": Minimal,
		"no access": NoAccess, "none": NoAccess, "30": Developer, "50": Owner, "5": Minimal, "0": NoAccess,
		"  minimal   access ": Minimal,
	}
	for in, want := range good {
		if got, err := ParseRole(in); err != nil || got != want {
			t.Errorf("ParseRole(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "admin", "25", "-1", "dev"} {
		if _, err := ParseRole(in); err == nil {
			t.Errorf("ParseRole(%q) succeeded", in)
		}
	}
}

func TestCredentialNeverPrintsSecret(t *testing.T) {
	c := Credential{Kind: KindToken, Secret: "glpat-SECRET"}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "cred", c)
	for _, s := range []string{
		fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c, c),
		fmt.Sprintf("%+v", struct{ C Credential }{c}), c.String(), logged.String(),
	} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("secret leaked: %s", s)
		}
		if !strings.Contains(s, "token") {
			t.Errorf("kind missing: %s", s)
		}
	}
}
