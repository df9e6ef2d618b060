package sessionauth

// ReportAccessDenied lets the black-box tests emit the event that the role
// checks emit, before and independently of them.
var ReportAccessDenied = (*Manager).accessDenied
