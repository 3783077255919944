export default { name: "not-a-probe" };
